// Edited messages: how often a message was edited and what the detail bar
// knows of its earlier texts.
import type { MessageVersionView, MessageView } from '../api/types';

/** Versions is what the detail bar knows of a message's earlier texts, for one edit count. */
export interface Versions {
  edits: number;
  list: MessageVersionView[] | null; // null: loading
  error?: string;
}

/** editCount is how often m was edited (0 for missing or odd values). */
export function editCount(m: Pick<MessageView, 'edits'>): number {
  const n = m.edits;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
