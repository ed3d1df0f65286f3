// The user card: who this is, what they wrote, what was done to them, notes,
// watch, links to their other platform users, and actions on the person.
// Every value from the platforms or moderators goes in as a text node (h).
import type { ActionView, EverywhereView, HistoryEntry, MessageView, UserCardView, UserRef } from '../api/types';
import { append, clear, h, replace } from './dom';
import { fmtDuration } from './render';
import { spec, type Ctx } from './ctx';

const WATCH_PRESETS: [string, number][] = [['15 min', 15], ['1 h', 60], ['1 day', 1440], ['forever', 0]];

function nameOf(u: UserRef): string {
  return u.username || u.userId || '?';
}

function when(ms?: number): string {
  return ms ? new Date(ms).toLocaleString() : '—';
}

/** openUserCard shows the card of a user of channelId over host; Esc closes it. */
export function openUserCard(ctx: Ctx, host: HTMLElement, channelId: number, userId: string, username: string): void {
  const body = h('div', { class: 'card-body' }, h('span', { class: 'muted' }, 'Loading…'));
  const undoBar = h('div', { class: 'card-undo', attrs: { 'data-testid': 'undo-bar', role: 'status' } });
  const box = h('div', { class: 'dialog user-card', attrs: { role: 'dialog', 'aria-modal': 'true', 'data-testid': 'user-card', tabindex: -1 } }, undoBar, body);
  const backdrop = h('div', { class: 'backdrop' }, box);
  const prev = document.activeElement as HTMLElement | null;
  let card: UserCardView | null = null;
  let noteInput: HTMLTextAreaElement | null = null;
  const close = () => {
    backdrop.remove();
    prev?.focus?.();
  };
  backdrop.addEventListener('mousedown', (e) => { if (e.target === backdrop) close(); });
  const channel = () => ctx.state.channels.get(channelId);

  const load = async () => {
    try {
      card = await ctx.api.userCard(channelId, userId, username);
      render();
    } catch (e) {
      replace(body, h('p', { class: 'error' }, (e as Error).message));
    }
  };

  /** undoable shows "<label> — Undo" for 10 s after the action is confirmed (or why it cannot be undone). */
  const undoable = (v: ActionView, label: string) => {
    const show = (a: ActionView) => {
      clear(undoBar);
      if (a.status === 'failed') {
        append(undoBar, h('span', { class: 'error' }, `${label} failed: ${a.outcome ?? ''}`));
        return;
      }
      if (a.undoRefused || !a.undo) {
        append(undoBar, h('span', null, `${label}. `), h('span', { class: 'muted' }, a.undoRefused ? `Cannot be undone: ${a.undoRefused}` : ''));
        return;
      }
      const btn = h('button', { class: 'btn', attrs: { type: 'button', 'data-testid': 'undo' } }, `Undo (${a.undo})`);
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        try {
          await ctx.api.reverse(a.id);
          replace(undoBar, h('span', null, `${a.undo}: sent`));
          void load();
        } catch (e) {
          replace(undoBar, h('span', { class: 'error' }, (e as Error).message));
        }
      });
      append(undoBar, h('span', null, `${label}${a.resolvedItems ? ` and ${a.resolvedItems} held message(s)` : ''}. `), btn);
      window.setTimeout(() => { if (btn.isConnected) clear(undoBar); }, 10_000);
    };
    // Wait for the confirmation (the audit log has the newest state).
    let tries = 0;
    const poll = async () => {
      const log = (await ctx.api.auditLog(channelId, 50).catch(() => null)) ?? [];
      const cur = log.find((a) => a.id === v.id) ?? v;
      if (cur.status === 'confirmed' || cur.status === 'failed' || ++tries > 50) {
        show(cur);
        void load();
        return;
      }
      window.setTimeout(() => void poll(), 200);
    };
    replace(undoBar, h('span', { class: 'muted' }, `${label}: sending…`));
    void poll();
  };

  const act = async (kind: 'ban' | 'timeout' | 'unban') => {
    if (!card) return;
    const who = nameOf(card.user);
    const c = channel();
    const s = spec(c, kind);
    if (!s.supported) {
      ctx.toast('warn', s.note || `${kind} is not available here`, `${kind} not available`);
      return;
    }
    let req: { durationSeconds?: number; reason?: string } = {};
    if (kind === 'ban') {
      const r = await ctx.dialog.confirm(`Ban ${who}?`, `Permanently ban ${who} from ${c?.name ?? 'this channel'}.`, 'Ban', true);
      if (!r) return;
      req = { reason: r.reason || undefined };
    } else if (kind === 'timeout') {
      const r = await ctx.dialog.timeout(`Time out ${who}`, c?.capabilities.timeoutPresets ?? [], s.note);
      if (!r) return;
      req = { durationSeconds: r.seconds, reason: r.reason || undefined };
    }
    try {
      const v = await ctx.api.act({ channelId, kind, userId: card.user.userId, username: card.user.username, ...req });
      const label = kind === 'timeout' ? `Timed out ${who} ${fmtDuration(req.durationSeconds ?? 0)}` : kind === 'ban' ? `Banned ${who}` : `Unbanned ${who}`;
      if (kind === 'unban') {
        replace(undoBar, h('span', null, `${label}: sent`));
        void load();
      } else undoable(v, label);
    } catch (e) {
      ctx.toast('error', (e as Error).message, `Could not ${kind} ${who}`);
    }
  };

  const resolveAll = async (status: 'approved' | 'dismissed') => {
    if (!card) return;
    try {
      const n = await ctx.api.resolveUserItems(channelId, card.user.userId ?? '', card.user.username ?? '', status);
      ctx.toast('info', `${n} held message(s) ${status}`);
    } catch (e) {
      ctx.toast('error', (e as Error).message);
    }
  };

  const watch = async (minutes: number, restrict: boolean, reason: string) => {
    if (!card) return;
    try {
      await ctx.api.watch(card.user, reason, minutes, restrict);
      void load();
    } catch (e) {
      ctx.toast('error', (e as Error).message, 'Could not watch');
    }
  };

  const everywhere = async () => {
    if (!card) return;
    const req = { user: card.user, kind: 'ban' as const, reason: '' };
    let plan: EverywhereView;
    try {
      plan = await ctx.api.planEverywhere(req);
    } catch (e) {
      ctx.toast('error', (e as Error).message, 'Ban everywhere');
      return;
    }
    const list = h('ul', { class: 'targets', attrs: { 'data-testid': 'everywhere-targets' } },
      ...(plan.targets ?? []).map((t) => h('li', { class: t.allowed ? '' : 'muted' }, `${t.platform} · ${t.channel} · ${nameOf(t.user)}`,
        t.note ? h('span', { class: 'cap-note' }, ` — ${t.note}`) : null, t.allowed ? null : ' (not possible here)')));
    const reason = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'reason (optional)', maxlength: 500 } });
    const result = h('div', { attrs: { 'data-testid': 'everywhere-result' } });
    const go = h('button', { class: 'btn btn-danger', attrs: { type: 'button', 'data-testid': 'everywhere-go' } }, 'Ban on every target');
    go.addEventListener('click', async () => {
      go.disabled = true;
      try {
        const res = await ctx.api.banEverywhere({ ...req, reason: reason.value.trim() || undefined as unknown as string });
        replace(result, ...(res.targets ?? []).map((t) => h('div', { class: t.error || t.action?.status === 'failed' ? 'error' : '' },
          `${t.platform} · ${t.channel}: `, t.action ? `${t.action.status}${t.action.outcome ? ` — ${t.action.outcome}` : ''}` : t.error || t.note || 'skipped')));
        window.setTimeout(() => void load(), 1500);
      } catch (e) {
        replace(result, h('span', { class: 'error' }, (e as Error).message));
        go.disabled = false;
      }
    });
    replace(sectionEverywhere, h('h3', null, 'Ban everywhere'), list, reason, go, result);
  };

  const sectionEverywhere = h('div', { class: 'card-everywhere' });

  const historyRow = (e: HistoryEntry) => {
    const a = e.action;
    const undo = a && a.undo && !a.undoRefused && a.status !== 'failed'
      ? h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'history-undo' }, on: { click: async () => {
        try {
          await ctx.api.reverse(a.id);
          void load();
        } catch (err) {
          ctx.toast('error', (err as Error).message, 'Cannot undo');
        }
      } } }, a.undo)
      : null;
    return h('li', { class: `hist hist-${e.source}` },
      h('span', { class: 'tag' }, e.source === 'action' ? 'ours' : 'platform'), ' ',
      `${e.kind}`, e.durationSeconds ? ` ${fmtDuration(e.durationSeconds)}` : '', ` · ${e.platform} · ${when(e.at)}`,
      e.actor ? ` · by ${e.actor}` : a ? ' · by you' : '',
      e.reason ? h('span', { class: 'reason' }, ` · ${e.reason}`) : null,
      e.expires ? ` · until ${when(e.expires)}` : '',
      a ? ` · ${a.status}${a.resolvedItems ? ` and ${a.resolvedItems} held messages` : ''}` : '',
      a?.undoRefused ? h('span', { class: 'muted' }, ` (${a.undoRefused})`) : null, ' ', undo);
  };

  const msgRow = (m: MessageView) => h('li', { class: `card-msg${m.deleted ? ' deleted' : ''}${m.held ? ' held' : ''}` },
    h('span', { class: 'muted' }, new Date(m.at).toLocaleTimeString()), ' ',
    m.held ? h('span', { class: 'tag' }, 'held') : null, m.deleted ? h('span', { class: 'tag' }, 'deleted') : null, ' ', m.text);

  const render = () => {
    const c = card;
    if (!c) return;
    const ch = channel();
    const msgs = h('ul', { class: 'card-msgs', attrs: { 'data-testid': 'card-messages' } }, ...(c.messages ?? []).map(msgRow));
    let next = c.messagesNext ?? 0;
    const more = h('button', { class: 'btn btn-small', attrs: { type: 'button' } }, 'Older messages');
    more.hidden = !next;
    more.addEventListener('click', async () => {
      const page = await ctx.api.userMessages(c.user, channelId, next, 50);
      append(msgs, ...page.messages.map(msgRow));
      next = page.next ?? 0;
      more.hidden = !next;
    });
    // Link search.
    const q = h('input', { class: 'input', attrs: { type: 'search', placeholder: 'find a user on any platform', 'data-testid': 'link-search' } });
    const results = h('ul', { class: 'link-results', attrs: { 'data-testid': 'link-results' } });
    const search = async () => {
      const sug = (await ctx.api.findUsers(q.value.trim(), c.user).catch(() => null)) ?? [];
      replace(results, ...sug.map((s) => h('li', null, `${s.user.platform} · ${nameOf(s.user)} `, h('span', { class: 'muted' }, (s.why ?? []).join(', ')), ' ',
        h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'link-user' }, on: { click: async () => {
          try {
            await ctx.api.linkUsers(c.user, s.user);
            void load();
          } catch (e) {
            ctx.toast('error', (e as Error).message, 'Could not link');
          }
        } } }, 'Link'), ' ',
        h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'open-found' }, on: { click: () => {
          close();
          openUserCard(ctx, host, s.channelId, s.user.userId ?? '', s.user.username ?? '');
        } } }, 'Open card'))));
    };
    q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); void search(); } });
    const findBtn = h('button', { class: 'btn btn-small', attrs: { type: 'button' }, on: { click: () => void search() } }, 'Find');
    // Notes.
    noteInput = h('textarea', { class: 'input', attrs: { rows: 2, maxlength: 2000, placeholder: 'note for every moderator (n)', 'data-testid': 'note-input' } });
    const addNote = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'note-add' } }, 'Add note');
    addNote.addEventListener('click', async () => {
      const text = noteInput!.value.trim();
      if (!text) return;
      try {
        await ctx.api.addNote(channelId, c.user, text);
        void load();
      } catch (e) {
        ctx.toast('error', (e as Error).message, 'Could not add the note');
      }
    });
    // Watch.
    const wReason = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'why (shown on held messages)', maxlength: 500, 'data-testid': 'watch-reason' } });
    const wRestrict = h('input', { attrs: { type: 'checkbox', 'data-testid': 'watch-restrict' } });
    const watchBox = c.watch
      ? h('div', { attrs: { 'data-testid': 'watch-state' } }, `Watched${c.watch.restrict ? ' (messages held)' : ''}: ${c.watch.reason || '—'} · ${c.watch.expires ? `until ${when(c.watch.expires)}` : 'until removed'} · by ${c.watch.author} `,
        h('button', { class: 'btn btn-small', attrs: { type: 'button' }, on: { click: async () => { await ctx.api.unwatch(c.user).catch(() => undefined); void load(); } } }, 'Stop watching'))
      : h('div', { attrs: { 'data-testid': 'watch-state' } }, wReason, h('label', null, wRestrict, ' hold their messages'), ' ',
        ...WATCH_PRESETS.map(([label, min]) => h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': `watch-${min}` }, on: { click: () => void watch(min, wRestrict.checked, wReason.value.trim()) } }, label)));
    const canUnban = spec(ch, 'unban').supported;
    replace(body,
      h('header', { class: 'card-head' },
        h('h2', { attrs: { 'data-testid': 'card-name' } }, c.displayName || nameOf(c.user)),
        h('span', { class: 'tag' }, c.user.platform),
        c.role ? h('span', { class: 'tag' }, c.role) : null,
        ...(c.badges ?? []).map((b) => h('span', { class: 'tag' }, b)),
        h('span', { class: 'muted' }, ` first seen ${when(c.firstSeen)} · ${c.messageCount} message(s) here`),
        h('span', { class: `strikes${c.strikes ? ' strikes-on' : ''}`, attrs: { 'data-testid': 'card-strikes' } }, ` ${c.strikes} strike(s) in ${c.strikeDays} days`)),
      h('div', { class: 'card-actions' },
        h('button', { class: 'btn btn-danger', attrs: { type: 'button', 'data-testid': 'card-ban' }, on: { click: () => void act('ban') } }, 'Ban ', h('kbd', null, 'b')),
        h('button', { class: 'btn btn-warn', attrs: { type: 'button', 'data-testid': 'card-timeout' }, on: { click: () => void act('timeout') } }, 'Timeout… ', h('kbd', null, 't')),
        canUnban ? h('button', { class: 'btn', attrs: { type: 'button', 'data-testid': 'card-unban' }, on: { click: () => void act('unban') } }, 'Unban / lift timeout') : h('span', { class: 'cap-note' }, spec(ch, 'unban').note ?? ''),
        h('button', { class: 'btn', attrs: { type: 'button', 'data-testid': 'card-dismiss-all' }, on: { click: () => void resolveAll('dismissed') } }, 'Dismiss all held'),
        h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: () => void resolveAll('approved') } }, 'Approve all held'),
        h('button', { class: 'btn btn-danger', attrs: { type: 'button', 'data-testid': 'card-everywhere' }, on: { click: () => void everywhere() } }, 'Ban everywhere…'),
        h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: close } }, 'Close ', h('kbd', null, 'Esc'))),
      sectionEverywhere,
      h('h3', null, 'Messages here'), msgs, more,
      h('h3', null, 'Linked users'),
      h('ul', { attrs: { 'data-testid': 'card-linked' } }, ...(c.linked ?? []).map((l) => h('li', null, `${l.user.platform} · ${nameOf(l.user)}`,
        h('span', { class: 'muted' }, ` linked by ${l.linkedBy ?? '?'} ${when(l.linkedAt)} `),
        h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'unlink' }, on: { click: async () => { await ctx.api.unlinkUser(l.user).catch(() => undefined); void load(); } } }, 'Unlink'),
        l.messages?.[0] ? h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'open-linked' }, on: { click: () => {
          close();
          openUserCard(ctx, host, l.messages![0]!.channelId, l.user.userId ?? '', l.user.username ?? '');
        } } }, 'Open card') : null,
        h('ul', { class: 'card-msgs' }, ...(l.messages ?? []).slice(0, 5).map(msgRow))))),
      h('div', { class: 'link-find' }, q, findBtn, results),
      h('h3', null, 'Moderation history'),
      h('ul', { class: 'card-history', attrs: { 'data-testid': 'card-history' } }, ...(c.history ?? []).map(historyRow)),
      h('h3', null, 'Notes'),
      h('ul', { class: 'card-notes', attrs: { 'data-testid': 'card-notes' } }, ...(c.notes ?? []).map((n) => h('li', null,
        h('span', { class: 'note-text' }, n.text), h('span', { class: 'muted' }, ` — ${n.author}, ${when(n.created)} (${n.user.platform} · ${nameOf(n.user)}) `),
        h('button', { class: 'btn btn-small', attrs: { type: 'button' }, on: { click: async () => { await ctx.api.deleteNote(n.id).catch(() => undefined); void load(); } } }, 'Delete')))),
      noteInput, addNote,
      h('h3', null, 'Watch'), watchBox);
  };

  box.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    if (e.key === 'Escape') {
      e.preventDefault();
      if (typing) (e.target as HTMLElement).blur();
      else close();
    } else if (!typing && e.key === 'b') {
      e.preventDefault();
      void act('ban');
    } else if (!typing && e.key === 't') {
      e.preventDefault();
      void act('timeout');
    } else if (!typing && e.key === 'n') {
      e.preventDefault();
      noteInput?.focus();
    } else if (!typing && e.key === 'w') {
      e.preventDefault();
      box.querySelector<HTMLInputElement>('[data-testid="watch-reason"]')?.focus();
    }
    e.stopPropagation();
  });
  host.appendChild(backdrop);
  box.focus();
  void load();
}
