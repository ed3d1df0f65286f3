import { describe, expect, it } from 'vitest';
import { headerModes, isInternalId } from '../src/ui/modes';

describe('headerModes: no internal ids in headers', () => {
  it('drops Kick\'s ids and a slug that repeats the name, keeps the modes', () => {
    const kick = { broadcaster_user_id: 20007919, chatroom_id: 626, kick_channel_id: 4000062, kick_slug: 'neonrally', slow_mode: true, slow_mode_seconds: 30, emotes_mode: false };
    expect(headerModes(kick, 'neonrally')).toEqual(['slow_mode', 'slow_mode_seconds: 30s']);
    expect(headerModes(kick, 'NeonRally').join(' ')).not.toMatch(/626|4000062|20007919/);
  });

  it('keeps a slug that says something the name does not', () => {
    expect(headerModes({ kick_slug: 'neon-rally-tv' }, 'neonrally')).toEqual(['kick_slug: neon-rally-tv']);
    expect(headerModes({ kick_slug: 'neon-rally' }, 'neon_rally')).toEqual([]);
  });

  it('drops VeroAI\'s contact id, keeps the contact name', () => {
    expect(headerModes({ contact_id: 'c-9f2', contact_name: 'Ada', muted: false, deleted: false }, 'support')).toEqual(['contact_name: Ada']);
  });

  it('knows an id key when it sees one, and nothing else', () => {
    for (const k of ['id', 'chatroom_id', 'kick_channel_id', 'broadcasterId', 'user_ids', 'uuid']) expect(isInternalId(k), k).toBe(true);
    for (const k of ['slow', 'followers_mode', 'paid', 'rapid', 'void', 'muted_until']) expect(isInternalId(k), k).toBe(false);
  });

  it('copes with no state', () => {
    expect(headerModes(undefined, 'x')).toEqual([]);
    expect(headerModes(null, 'x')).toEqual([]);
  });
});
