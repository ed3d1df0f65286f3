// What chat marks on people: watched users (their messages highlighted) and
// users with notes (a note icon with the newest note as its tooltip). One
// cache for the console, filled from PeopleMarks at start and replaced by
// the event stream's `people` after every note, watch, unwatch or expiry;
// a row looks its author up by id and by name (two map lookups), never by
// calling the API.
import type { NoteView, PeopleMarksView, Platform, UserRef, WatchView } from '../api/types';

/** Mark is what a chat row shows of its author. */
export interface Mark {
  watch?: WatchView;
  note?: NoteView;
}

const NONE: Mark = Object.freeze({});

function keys(p: string, id: string | undefined, name: string | undefined): string[] {
  const out: string[] = [];
  if (id) out.push(`${p}|id:${id}`);
  if (name) out.push(`${p}|name:${name.toLowerCase()}`);
  return out;
}

/** Marks indexes PeopleMarksView by platform and user. */
export class Marks {
  private watches = new Map<string, WatchView>();
  private notes = new Map<string, NoteView>();

  /** set replaces the marks with v (a PeopleMarks answer or a batch's people). */
  set(v: PeopleMarksView | null | undefined): void {
    this.watches = new Map();
    this.notes = new Map();
    for (const w of v?.watches ?? []) for (const k of keys(w.user.platform, w.user.userId, w.user.username)) this.watches.set(k, w);
    for (const n of v?.notes ?? []) {
      for (const k of keys(n.user.platform, n.user.userId, n.user.username)) {
        const had = this.notes.get(k);
        if (!had || had.created <= n.created) this.notes.set(k, n);
      }
    }
  }

  /** of returns the marks of a user of platform p (by id first, then name). */
  of(p: Platform | string | undefined, id: string | undefined, name: string | undefined): Mark {
    if (!p || (!this.watches.size && !this.notes.size)) return NONE;
    let watch: WatchView | undefined;
    let note: NoteView | undefined;
    for (const k of keys(p, id, name)) {
      watch ??= this.watches.get(k);
      note ??= this.notes.get(k);
    }
    if (watch?.expires && watch.expires <= Date.now()) watch = undefined; // the stream's update may lag
    return watch || note ? { watch, note } : NONE;
  }

  /** ofRef is of for a UserRef. */
  ofRef(u: UserRef): Mark {
    return this.of(u.platform, u.userId, u.username);
  }
}
