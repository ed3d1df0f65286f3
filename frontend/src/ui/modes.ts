// What a channel header shows of a channel's state: its chat modes, never
// the platform's internal ids (Kick's chatroom_id, broadcaster_user_id,
// kick_channel_id; VeroAI's contact_id) nor a slug that only repeats the
// channel's name.
import { fmtDuration } from './render';

/** isInternalId says whether a state key names an internal id. */
export function isInternalId(key: string): boolean {
  return /(^|_)(id|ids|uuid)$/i.test(key) || /[a-z](Id|Ids|UUID)$/.test(key);
}

const slugForm = (s: string) => s.trim().toLowerCase().replace(/^[@#]/, '').replace(/[_\s]+/g, '-');

/** headerModes lists the state entries worth a tag in the header, as "key" (on) or "key: value". */
export function headerModes(state: Record<string, unknown> | null | undefined, channelName: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(state ?? {})) {
    if (v === false || v === 0 || v === null || v === '' || v === undefined) continue;
    if (isInternalId(k)) continue;
    if (/slug$/i.test(k) && typeof v === 'string' && slugForm(v) === slugForm(channelName)) continue;
    out.push(v === true ? k : `${k}: ${typeof v === 'number' && /slow|follow/i.test(k) ? fmtDuration(v) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  return out;
}
