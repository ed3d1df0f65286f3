// How the UI names the store that holds the platform tokens: the OS keyring
// (single-user mode), memory (--secrets memory) or, in team mode, the team
// secret store (sealed in the team's PostgreSQL database with the key only
// the console instances hold, serve --secrets-key-file).
import type { KeyringStatus } from '../api/types';

/** secretStoreName is the store's name in a sentence ("the OS keyring"). */
export function secretStoreName(k: KeyringStatus | undefined | null): string {
  switch (k?.kind) {
    case 'team': return 'the team secret store';
    case 'memory': return 'memory';
    default: return 'the OS keyring';
  }
}

/** secretStoreShort is the store's name for a tag ("keyring"). */
export function secretStoreShort(k: KeyringStatus | undefined | null): string {
  return k?.kind === 'team' ? 'team secret store' : 'keyring';
}
