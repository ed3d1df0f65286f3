// The main moderation screen: for one channel, its queue and live chat side
// by side (tabs on narrow windows), header, detail bar and composer; for
// "All queues", the queue across channels with channel labels.
import { openUserCard } from './usercard';
import { PLATFORM_NAMES, type ActionKind, type ActionSpec, type ChannelView, type MessageVersionView, type MessageView, type Notice, type QueueItemView } from '../api/types';
import type { HiddenKind } from '../state/hidden';
import { chatWindow, openQueue, toRow, type Changes, type ChatRow } from '../state/store';
import { spec, type Ctx, type Page } from './ctx';
import { h, replace } from './dom';
import { healthClass, healthText } from './health';
import { fmtDuration, fmtTime, renderText, renderUser, safeColor } from './render';
import { canReply, effectsOf, renderReplyContext, replyable, replyLabel, sendRequest } from './reply';
import { VirtualList } from './virtual';

const QUEUE_ROW = 54;
const CHAT_ROW = 24;
const HISTORY_PAGE = 100;

type Pane = 'queue' | 'chat';
type Verb = 'approve' | 'dismiss' | 'ban' | 'timeout' | 'timeoutAsk' | 'delete' | 'pin' | 'reply'
  | 'hideUser' | 'unhideUser' | 'hideMessage' | 'unhideMessage';

interface Target {
  item?: QueueItemView;
  msg: MessageView;
  deleted: boolean;
}

const MOD_KINDS: ActionKind[] = ['ban', 'timeout', 'delete', 'pin'];
const VERB_LABEL: Record<string, string> = { ban: 'Ban', timeout: 'Timeout', delete: 'Delete', pin: 'Pin', announce: 'Announce', clear: 'Clear chat' };
/** CHANNEL_KINDS are the channel-level actions whose absence the composer explains. */
const CHANNEL_KINDS: ActionKind[] = ['announce', 'clear', 'pin'];
const NOTICES_SHOWN = 4;
const NOTICES_KEPT = 50;
const HIDDEN_LISTED = 200;
/** VERSIONS_CACHED bounds the earlier texts kept for the detail bar. */
const VERSIONS_CACHED = 200;

/** Versions is what the detail bar knows of a message's earlier texts, for one edit count. */
interface Versions {
  edits: number;
  list: MessageVersionView[] | null; // null: loading
  error?: string;
}

/** editCount is how often m was edited (0 for missing or odd values). */
export function editCount(m: Pick<MessageView, 'edits'>): number {
  const n = m.edits;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** editedTag is the "edited" marker of an edited message, or null. */
export function editedTag(m: Pick<MessageView, 'edits'>): HTMLElement | null {
  const n = editCount(m);
  if (!n) return null;
  return h('span', { class: 'tag tag-edited', attrs: { 'data-testid': 'edited', title: `edited ${n === 1 ? 'once' : `${n} times`}; select it to see the earlier text` } }, 'edited');
}

/** renderVersions lists a message's earlier texts, oldest first, as plain text. */
export function renderVersions(v: Versions): HTMLElement {
  const title = `Earlier text${v.edits === 1 ? '' : 's'} (edited ${v.edits === 1 ? 'once' : `${v.edits} times`})`;
  let body: HTMLElement;
  if (v.error) body = h('span', { class: 'muted' }, `could not load: ${v.error}`);
  else if (!v.list) body = h('span', { class: 'muted' }, 'loading…');
  else if (!v.list.length) body = h('span', { class: 'muted' }, 'none stored');
  else {
    const list = [...v.list].sort((a, b) => (a.replacedAt || 0) - (b.replacedAt || 0));
    body = h('ol', { class: 'version-list' }, ...list.map((x) => h('li', { class: 'version', attrs: { 'data-testid': 'version' } },
      h('span', { class: 'time' }, fmtTime(x.replacedAt)),
      h('span', { class: 'version-text' }, typeof x.text === 'string' ? x.text : ''))));
  }
  return h('div', { class: 'detail-versions', attrs: { 'data-testid': 'versions' } }, h('span', { class: 'versions-title' }, title), body);
}

/** LocalHide says which local-only substitutes a channel needs: hiding users where it cannot ban or time out, hiding messages where it cannot delete. */
interface LocalHide {
  user: boolean;
  message: boolean;
  ban: ActionSpec;
  timeout: ActionSpec;
  del: ActionSpec;
}

/** capNote is "Label: note", without repeating the label when the note already starts with it (Kick: "Pinning: …"). */
export function capNote(kind: ActionKind, note: string | undefined): string {
  const label = VERB_LABEL[kind] ?? kind;
  const n = note || 'not available here';
  const stem = label.toLowerCase().split(' ')[0]!.slice(0, 5);
  return n.toLowerCase().startsWith(stem) ? n : `${label}: ${n}`;
}

function capsKeyOf(c: ChannelView | undefined): string {
  return c ? JSON.stringify([c.readOnly, c.capabilities]) : '';
}

export function localHide(c: ChannelView | undefined): LocalHide {
  const ban = spec(c, 'ban');
  const timeout = spec(c, 'timeout');
  const del = spec(c, 'delete');
  return { user: !ban.supported || !timeout.supported, message: !del.supported, ban, timeout, del };
}

export class QueuesPage implements Page {
  readonly el: HTMLElement;
  private readonly header = h('div', { class: 'chan-header' });
  private readonly pinBar = h('div', { class: 'pin-bar', attrs: { hidden: true } });
  private readonly noticeBar = h('div', { class: 'notice-bar', attrs: { hidden: true, 'aria-live': 'polite', 'data-testid': 'channel-notices' } });
  private readonly hiddenBox = h('div', { class: 'hidden-box', attrs: { hidden: true, 'data-testid': 'hidden-list' } });
  private hiddenOpen = false;
  private notices: Notice[] = [];
  private noticesClosed = false;
  private unsubHidden: (() => void) | null = null;
  private readonly detail = h('div', { class: 'detail', attrs: { 'data-testid': 'detail' } });
  private readonly queueCount = h('span', { class: 'pane-count' });
  private readonly tabQueue = h('button', { class: 'tab active', attrs: { type: 'button' } }, 'Queue');
  private readonly tabChat = h('button', { class: 'tab', attrs: { type: 'button' } }, 'Chat');
  private readonly split = h('div', { class: 'split', dataset: { tab: 'queue' } });
  private readonly pill = h('button', { class: 'pill', attrs: { type: 'button', hidden: true } });
  private readonly queueList: VirtualList;
  private readonly chatList: VirtualList | null = null;
  private items: QueueItemView[] = [];
  private focus: Pane = 'queue';
  private selQueue = 0;
  private selChat = 0;
  private loadingOlder = false;
  private composer: HTMLElement | null = null;
  /** replyTo is the message the next send answers (null: a plain send). */
  private replyTo: MessageView | null = null;
  private replyBar: HTMLElement | null = null;
  private sendInput: HTMLInputElement | null = null;
  /** capsKey is what the composer and the action buttons were built from. */
  private capsKey = '';
  /** versions caches earlier texts of edited messages by message id. */
  private readonly versions = new Map<number, Versions>();

  constructor(private readonly ctx: Ctx, readonly channelId: number) {
    this.items = openQueue(ctx.state, channelId);
    this.queueList = new VirtualList({
      rowHeight: QUEUE_ROW,
      className: 'queue-list',
      stickToBottom: false,
      count: () => this.items.length,
      key: (i) => {
        const it = this.items[i]!;
        return `${it.id}:${it.message.deleted ? 1 : 0}:${editCount(it.message)}:${it.id === this.selQueue ? 1 : 0}:${this.focus === 'queue' ? 1 : 0}:${this.ctx.hidden.version}`;
      },
      render: (i) => this.queueRow(this.items[i]!),
    });
    const queuePane = h('section', { class: 'pane pane-queue', attrs: { 'aria-label': 'moderation queue' } },
      h('div', { class: 'pane-title' }, channelId ? 'Queue' : 'All queues', this.queueCount),
      this.queueList.el,
      h('div', { class: 'empty-note' }));
    this.queueList.el.addEventListener('focus', () => this.setFocus('queue'));
    this.split.append(queuePane);

    const chan = this.channel();
    if (channelId) {
      const w = chatWindow(ctx.state, channelId);
      this.chatList = new VirtualList({
        rowHeight: CHAT_ROW,
        className: 'chat-list',
        stickToBottom: true,
        count: () => w.length,
        key: (i) => {
          const r = w.at(i)!;
          return `${r.id}:${r.rev}:${r.id === this.selChat ? 1 : 0}:${this.focus === 'chat' ? 1 : 0}:${this.ctx.hidden.version}`;
        },
        render: (i) => this.chatRow(w.at(i)!),
        onNearTop: () => void this.loadOlder(),
        onNewBelow: (n) => {
          this.pill.hidden = n === 0;
          this.pill.textContent = `${n} new message${n === 1 ? '' : 's'} ↓`;
        },
      });
      this.pill.addEventListener('click', () => this.chatList?.scrollToBottom());
      this.chatList.el.addEventListener('focus', () => this.setFocus('chat'));
      this.split.append(h('section', { class: 'pane pane-chat', attrs: { 'aria-label': 'live chat' } },
        h('div', { class: 'pane-title' }, 'Chat'),
        this.chatList.el,
        this.pill));
      this.composer = this.buildComposer(chan);
      this.capsKey = capsKeyOf(chan);
    } else {
      this.split.classList.add('single');
    }
    this.tabQueue.addEventListener('click', () => this.setTab('queue'));
    this.tabChat.addEventListener('click', () => this.setTab('chat'));

    this.el = h('div', { class: 'page page-queues', dataset: { channelId } },
      this.header,
      this.pinBar,
      this.noticeBar,
      channelId ? h('div', { class: 'tabs narrow-only' }, this.tabQueue, this.tabChat) : null,
      this.split,
      this.detail,
      this.composer);
    this.unsubHidden = ctx.hidden.onChange(() => this.onHiddenChange());
    this.notices = ctx.state.notices.filter((n) => channelId && n.channelId === channelId).slice(-NOTICES_KEPT);
    this.renderHeader();
    this.renderHidden();
    this.renderNotices();
    this.renderDetail();
    this.renderCounts();
    if (channelId && !ctx.state.historyLoaded.has(channelId)) void this.loadInitial();
    if (channelId) void this.loadNotices();
    requestAnimationFrame(() => {
      this.queueList.render();
      this.chatList?.scrollToBottom();
    });
  }

  private channel(id = this.channelId): ChannelView | undefined {
    return this.ctx.state.channels.get(id);
  }

  private setTab(t: Pane): void {
    this.split.dataset.tab = t;
    this.tabQueue.classList.toggle('active', t === 'queue');
    this.tabChat.classList.toggle('active', t === 'chat');
    this.setFocus(t);
    this.queueList.schedule();
    this.chatList?.schedule();
  }

  private setFocus(p: Pane): void {
    if (p === 'chat' && !this.chatList) return;
    if (this.focus === p) return;
    this.focus = p;
    this.split.dataset.focus = p;
    this.queueList.schedule();
    this.chatList?.schedule();
    this.renderDetail();
  }

  // ---- data loading ----

  private async loadInitial(): Promise<void> {
    const cid = this.channelId;
    try {
      const rows = (await this.ctx.api.recentMessages(cid, 0, 200)) ?? [];
      this.ctx.state.historyLoaded.add(cid);
      const w = chatWindow(this.ctx.state, cid);
      w.prependOlder(rows.map(toRow), rows.length === 200);
      this.chatList?.scrollToBottom();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not load chat history');
    }
  }

  private async loadOlder(): Promise<void> {
    const w = chatWindow(this.ctx.state, this.channelId);
    if (this.loadingOlder || !w.hasOlder || w.length >= w.cap) return;
    this.loadingOlder = true;
    try {
      const rows = (await this.ctx.api.recentMessages(this.channelId, w.oldestId(), HISTORY_PAGE)) ?? [];
      const added = w.prependOlder(rows.map(toRow), rows.length === HISTORY_PAGE);
      this.chatList?.shifted(added);
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not load older messages');
    } finally {
      this.loadingOlder = false;
    }
  }

  /** loadNotices adds the channel's logged notices (e.g. socket-base broadcasts) to those seen live. */
  private async loadNotices(): Promise<void> {
    const cid = this.channelId;
    try {
      const evs = (await this.ctx.api.modEvents(cid, 50)) ?? [];
      const logged: Notice[] = evs
        .filter((e) => e.kind === 'notice' && e.channelId === cid && typeof e.text === 'string')
        .map((e) => ({ level: 'info', channelId: cid, text: `notice: ${e.text}`.trim(), at: e.at }));
      this.addNotices(logged);
    } catch {
      /* the live notices still show; mod events are optional here */
    }
  }

  /** addNotices merges notices for this channel (deduplicated by time and text), oldest first. */
  private addNotices(list: readonly Notice[]): void {
    const seen = new Set(this.notices.map((n) => `${n.at}|${n.text}`));
    let added = 0;
    for (const n of list) {
      if (!this.channelId || n.channelId !== this.channelId) continue;
      const k = `${n.at}|${n.text}`;
      if (seen.has(k)) continue;
      seen.add(k);
      this.notices.push(n);
      added++;
    }
    if (!added) return;
    this.notices.sort((a, b) => (a.at || 0) - (b.at || 0));
    if (this.notices.length > NOTICES_KEPT) this.notices.splice(0, this.notices.length - NOTICES_KEPT);
    this.noticesClosed = false;
    this.renderNotices();
  }

  private renderNotices(): void {
    const shown = this.notices.slice(-NOTICES_SHOWN);
    if (!this.channelId || !shown.length || this.noticesClosed) {
      this.noticeBar.hidden = true;
      return;
    }
    const close = h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': 'hide notices', title: 'hide notices' } }, '×');
    close.addEventListener('click', () => {
      this.noticesClosed = true;
      this.renderNotices();
    });
    this.noticeBar.hidden = false;
    replace(this.noticeBar,
      h('div', { class: 'notice-list' }, ...shown.map((n) => {
        const level = /^(info|warn|error)$/.test(n.level) ? n.level : 'info';
        return h('div', { class: `notice-row notice-${level}`, attrs: { 'data-testid': 'channel-notice', 'data-level': level } },
          h('span', { class: 'time' }, fmtTime(n.at)),
          h('span', { class: 'notice-text' }, typeof n.text === 'string' ? n.text : ''));
      })),
      close);
  }

  // ---- local hiding ----

  private onHiddenChange(): void {
    this.renderHidden();
    this.queueList.schedule();
    this.chatList?.schedule();
    this.renderDetail();
  }

  /** renderHidden lists what is hidden locally in this channel (all channels on "All queues"), with unhide buttons. */
  private renderHidden(): void {
    const list = this.ctx.hidden.list(this.channelId);
    if (!list.length) {
      this.hiddenBox.hidden = true;
      replace(this.hiddenBox);
      return;
    }
    const users = list.filter((e) => e.kind === 'user').length;
    const msgs = list.length - users;
    const parts: string[] = [];
    if (users) parts.push(`${users} user${users === 1 ? '' : 's'}`);
    if (msgs) parts.push(`${msgs} message${msgs === 1 ? '' : 's'}`);
    const rows = list.slice(0, HIDDEN_LISTED).map((e) => {
      const un = h('button', { class: 'mini', attrs: { type: 'button', 'data-testid': 'unhide', title: 'show it again in this console' } }, 'unhide');
      un.addEventListener('click', () => this.unhide(e.kind, e.channelId, e.id, e.label));
      return h('li', { class: 'hidden-entry', attrs: { 'data-testid': 'hidden-entry', 'data-kind': e.kind, 'data-id': e.id, 'data-channel-id': e.channelId } },
        h('span', { class: 'tag' }, e.kind === 'user' ? 'user' : 'message'),
        this.channelId ? null : this.channelLabel(e.channelId),
        h('span', { class: 'hidden-label' }, e.label),
        h('span', { class: 'time' }, fmtTime(e.at)),
        un);
    });
    const toggle = h('button', { class: 'link-btn hidden-summary', attrs: { type: 'button', 'aria-expanded': this.hiddenOpen ? 'true' : 'false', 'data-testid': 'hidden-summary' } },
      `${this.hiddenOpen ? '▾' : '▸'} Hidden locally: ${parts.join(', ')}`);
    toggle.addEventListener('click', () => {
      this.hiddenOpen = !this.hiddenOpen;
      this.renderHidden();
    });
    this.hiddenBox.hidden = false;
    this.hiddenBox.classList.toggle('open', this.hiddenOpen);
    replace(this.hiddenBox,
      toggle,
      this.hiddenOpen ? h('p', { class: 'hidden-help muted' }, 'Only in this console, on this computer: the platform was not told and others still see them.') : null,
      this.hiddenOpen ? h('ul', { class: 'hidden-entries' }, ...rows) : null,
      this.hiddenOpen && list.length > HIDDEN_LISTED ? h('p', { class: 'muted' }, `…and ${list.length - HIDDEN_LISTED} more`) : null);
  }

  private unhide(kind: HiddenKind, channelId: number, id: string, label: string): void {
    if (this.ctx.hidden.unhide(kind, channelId, id)) this.ctx.toast('info', label, kind === 'user' ? 'User shown again' : 'Message shown again');
  }

  destroy(): void {
    this.unsubHidden?.();
    this.unsubHidden = null;
  }

  // ---- rendering ----

  private renderHeader(): void {
    if (!this.channelId) {
      const n = this.ctx.state.channels.size;
      replace(this.header, h('h1', { class: 'chan-title' }, 'All queues'), h('span', { class: 'muted' }, `${n} channel${n === 1 ? '' : 's'}`), this.hiddenBox);
      return;
    }
    const c = this.channel();
    if (!c) {
      replace(this.header, h('h1', { class: 'chan-title' }, 'Channel gone'), h('span', { class: 'muted' }, 'This channel was left.'), this.hiddenBox);
      return;
    }
    const modes: HTMLElement[] = [];
    for (const [k, v] of Object.entries(c.state ?? {})) {
      if (v === false || v === 0 || v === null || v === '' || v === undefined) continue;
      const label = v === true ? k : `${k}: ${typeof v === 'number' && /slow|follow/i.test(k) ? fmtDuration(v) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
      modes.push(h('span', { class: 'tag tag-mode' }, label));
    }
    replace(this.header,
      h('span', { class: `plat plat-${c.platform}` }, PLATFORM_NAMES[c.platform] ?? c.platform),
      h('h1', { class: 'chan-title' }, c.name),
      h('span', { class: `health ${healthClass(c.health)}` }, h('span', { class: 'dot' }), healthText(c.health, c.readOnly)),
      h('span', { class: 'muted', attrs: { title: 'viewers' } }, `${c.viewers.toLocaleString()} viewers`),
      c.readOnly ? h('span', { class: 'tag tag-ro', attrs: { 'data-testid': 'readonly' } }, 'read-only') : null,
      ...modes,
      this.hiddenBox);
    this.renderPin(c);
  }

  private renderPin(c: ChannelView | undefined): void {
    const p = c?.pinned;
    if (!p) {
      this.pinBar.hidden = true;
      return;
    }
    const left = p.until ? Math.max(0, Math.round((p.until - Date.now()) / 1000)) : -1;
    this.pinBar.hidden = false;
    replace(this.pinBar,
      h('span', { class: 'pin-icon' }, 'Pinned'),
      h('span', { class: 'user' }, p.user),
      h('span', { class: 'pin-text' }, p.text),
      h('span', { class: 'pin-ttl' }, left < 0 ? 'until unpinned' : left === 0 ? 'expiring' : `${fmtDuration(left)} left`));
  }

  private renderCounts(): void {
    const n = this.items.length;
    this.queueCount.textContent = ` · ${n} open`;
    this.tabQueue.textContent = `Queue (${n})`;
    const note = this.split.querySelector('.empty-note');
    if (note) note.textContent = n ? '' : 'Queue is clear.';
  }

  private channelLabel(cid: number): HTMLElement {
    const c = this.channel(cid);
    return h('span', { class: `chan-label plat-${c?.platform ?? 'x'}` }, c ? c.name : `#${cid}`);
  }

  /** hiddenParts is what a locally hidden row shows: "hidden locally · show" (collapsed), or a tag once shown for this session. */
  private hiddenParts(m: MessageView): { collapsed: boolean; by?: HiddenKind; nodes: HTMLElement[] } {
    const hd = this.ctx.hidden.rowHiding(m);
    if (!hd.hidden) return { collapsed: false, nodes: [] };
    const why = hd.by === 'user' ? 'author hidden locally' : 'message hidden locally';
    if (hd.revealed) {
      return { collapsed: false, by: hd.by, nodes: [h('span', { class: 'tag tag-local', attrs: { title: `${why}; shown for this session` } }, 'hidden locally')] };
    }
    const show = h('button', { class: 'link-btn', attrs: { type: 'button', 'data-testid': 'show-hidden', title: `${why}: show it for this session` } }, 'show');
    show.addEventListener('mousedown', (e) => e.stopPropagation());
    show.addEventListener('click', (e) => {
      e.stopPropagation();
      this.ctx.hidden.reveal(m.channelId, m.id);
    });
    return { collapsed: true, by: hd.by, nodes: [h('span', { class: 'hidden-note', attrs: { title: why } }, 'hidden locally · ', show)] };
  }

  private queueRow(it: QueueItemView): HTMLElement {
    const m = it.message;
    const sel = it.id === this.selQueue;
    const hid = this.hiddenParts(m);
    if (hid.collapsed) {
      const row = h('div', {
        class: `qrow hidden-local ${sel ? 'selected' : ''}`,
        attrs: { 'data-testid': 'queue-item', 'data-hidden': hid.by, role: 'option', 'aria-selected': sel ? 'true' : 'false' },
        dataset: { itemId: it.id, channelId: it.channelId },
      },
        h('div', { class: 'qline' },
          h('span', { class: 'time' }, fmtTime(it.at || m.at)),
          this.channelId ? null : this.channelLabel(it.channelId),
          ...hid.nodes),
        this.rowActions({ item: it, msg: m, deleted: m.deleted }, true));
      row.addEventListener('mousedown', () => this.select('queue', it.id));
      return row;
    }
    const row = h('div', {
      class: `qrow ${sel ? 'selected' : ''} ${m.deleted ? 'deleted' : ''}`,
      attrs: { 'data-testid': 'queue-item', role: 'option', 'aria-selected': sel ? 'true' : 'false', 'data-edited': editCount(m) ? 'true' : undefined },
      dataset: { itemId: it.id, channelId: it.channelId },
    },
      h('div', { class: 'qline' },
        h('span', { class: 'time' }, fmtTime(it.at || m.at)),
        this.channelId ? null : this.channelLabel(it.channelId),
        renderUser(m.user),
        ...(it.reasons ?? []).slice(0, 3).map((r) => h('span', { class: 'tag tag-reason' }, r)),
        it.strikes ? h('span', { class: 'strike-badge', attrs: { 'data-testid': 'strikes' } }, `${it.strikes} strike${it.strikes === 1 ? '' : 's'} in 30 days`) : null,
        editedTag(m),
        ...hid.nodes),
      h('div', { class: 'qtext msg-text' }, renderText(m)),
      this.rowActions({ item: it, msg: m, deleted: m.deleted }, true));
    row.addEventListener('mousedown', () => this.select('queue', it.id));
    return row;
  }

  private chatRow(r: ChatRow): HTMLElement {
    const m = r.m;
    const sel = r.id === this.selChat;
    const hid = this.hiddenParts(m);
    if (hid.collapsed) {
      const row = h('div', {
        class: `crow hidden-local ${sel ? 'selected' : ''}`,
        attrs: { 'data-testid': 'chat-row', 'data-hidden': hid.by },
        dataset: { msgId: m.id },
      },
        h('span', { class: 'time' }, fmtTime(m.at)),
        ...hid.nodes,
        this.rowActions({ msg: m, deleted: r.deleted }, false));
      row.addEventListener('mousedown', () => this.select('chat', m.id));
      return row;
    }
    const row = h('div', {
      class: `crow ${sel ? 'selected' : ''} ${r.deleted ? 'deleted' : ''} ${r.purged ? 'purged' : ''} ${m.held ? 'held' : ''}`,
      attrs: { 'data-testid': 'chat-row', 'data-edited': editCount(m) ? 'true' : undefined },
      dataset: { msgId: m.id },
    },
      h('span', { class: 'time' }, fmtTime(m.at)),
      m.held ? h('span', { class: 'tag tag-held', attrs: { title: 'held in the queue' } }, 'held') : null,
      renderUser(m.user),
      h('span', { class: 'sep' }, ': '),
      renderReplyContext(m.replyTo),
      h('span', { class: 'msg-text' }, renderText(m)),
      editedTag(m),
      r.note || r.deleted ? h('span', { class: 'tag tag-note' }, r.note || 'deleted') : null,
      ...hid.nodes,
      this.rowActions({ msg: m, deleted: r.deleted }, false));
    row.addEventListener('mousedown', () => this.select('chat', m.id));
    return row;
  }

  /** rowActions are the hover buttons on a row: only supported actions. */
  private rowActions(t: Target, isItem: boolean): HTMLElement {
    const c = this.channel(t.msg.channelId);
    const box = h('span', { class: 'row-actions' });
    const add = (verb: Verb, label: string, title: string, cls = '') => {
      const b = h('button', { class: `mini ${cls}`, attrs: { type: 'button', title, 'data-verb': verb } }, label);
      b.addEventListener('mousedown', (e) => e.stopPropagation());
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        void this.run(verb, t);
      });
      box.appendChild(b);
    };
    if (isItem) {
      add('approve', '✓', 'approve (a)', 'ok');
      add('dismiss', '✕', 'dismiss (d)');
    }
    for (const k of MOD_KINDS) {
      const s = spec(c, k);
      if (!s.supported) continue;
      if (k === 'delete' && t.deleted) continue;
      const verb = (k === 'timeout' ? 'timeoutAsk' : k) as Verb;
      add(verb, VERB_LABEL[k] ?? k, `${k}${s.inferred ? ' (inferred)' : ''}${s.note ? ': ' + s.note : ''}`, k === 'ban' ? 'danger' : '');
    }
    const lh = localHide(c);
    const hidden = this.ctx.hidden;
    if (lh.user) {
      const note = (!lh.ban.supported ? lh.ban.note : lh.timeout.note) ?? '';
      if (hidden.isUserHidden(t.msg.channelId, t.msg.user.id)) add('unhideUser', 'Unhide user', 'show this user again (local only)', 'local');
      else add('hideUser', 'Hide user', `hide this user locally, only in this console${note ? ': ' + note : ''}`, 'local');
    }
    if (lh.message) {
      if (hidden.isMessageHidden(t.msg.channelId, t.msg.id)) add('unhideMessage', 'Unhide msg', 'show this message again (local only)', 'local');
      else add('hideMessage', 'Hide msg', `hide this message locally, only in this console${lh.del.note ? ': ' + lh.del.note : ''}`, 'local');
    }
    return box;
  }

  private target(): Target | null {
    if (this.focus === 'queue') {
      const it = this.ctx.state.queue.get(this.selQueue);
      return it ? { item: it, msg: it.message, deleted: it.message.deleted } : null;
    }
    const w = chatWindow(this.ctx.state, this.channelId);
    const i = w.indexOf(this.selChat);
    const r = i >= 0 ? w.at(i) : undefined;
    return r ? { msg: r.m, deleted: r.deleted } : null;
  }

  private renderDetail(): void {
    const t = this.target();
    if (!t) {
      replace(this.detail, h('span', { class: 'muted' }, 'Select a queue item or message (j/k, click). Press ? for shortcuts.'));
      return;
    }
    const c = this.channel(t.msg.channelId);
    const btns: HTMLElement[] = [];
    const notes: HTMLElement[] = [];
    const btn = (verb: Verb, label: string, key: string, cls = '', inferred = false, title = '') => {
      const local = verb === 'hideUser' || verb === 'unhideUser' || verb === 'hideMessage' || verb === 'unhideMessage';
      const b = h('button', { class: `btn ${cls}`, attrs: { type: 'button', 'data-verb': verb, title: title || undefined } },
        label, key ? h('kbd', null, key) : null,
        inferred ? h('span', { class: 'inferred', attrs: { title: 'the wire form of this action is inferred, not documented' } }, 'inferred') : null,
        local ? h('span', { class: 'local-only', attrs: { title: 'nothing is sent to the platform; only this console hides it' } }, 'local only') : null);
      b.addEventListener('click', () => void this.run(verb, t));
      btns.push(b);
    };
    if (t.item) {
      btn('approve', 'Approve', 'a', 'btn-ok');
      btn('dismiss', 'Dismiss', 'd');
    }
    btns.push(h('button', { class: 'btn', attrs: { type: 'button', 'data-testid': 'open-card' }, on: { click: () => this.openCard(t.msg) } }, 'User card', h('kbd', null, 'u')));
    if (this.channelId && replyable(c, t.msg, t.deleted)) btn('reply', 'Reply', 'r', '', false, 'answer this message from the send box');
    for (const k of MOD_KINDS) {
      const s = spec(c, k);
      if (!s.supported) {
        notes.push(h('span', { class: 'unsupported', attrs: { 'data-kind': k } }, capNote(k, s.note)));
        continue;
      }
      if (k === 'ban') btn('ban', 'Ban', 'b', 'btn-danger', s.inferred);
      if (k === 'timeout') {
        const presets = c?.capabilities.timeoutPresets ?? [];
        btn('timeoutAsk', `Timeout ${fmtDuration(presets[0] ?? 600)}…`, 't', 'btn-warn', s.inferred);
      }
      if (k === 'delete' && !t.deleted) btn('delete', 'Delete', 'x', '', s.inferred);
      if (k === 'pin') btn('pin', 'Pin', 'p', '', s.inferred);
      if (s.note) notes.push(h('span', { class: 'cap-note' }, `${VERB_LABEL[k]}: ${s.note}`));
    }
    // Local-only substitutes where the platform cannot ban, time out or delete.
    const lh = localHide(c);
    const hidden = this.ctx.hidden;
    if (lh.user) {
      if (hidden.isUserHidden(t.msg.channelId, t.msg.user.id)) {
        btn('unhideUser', 'Unhide user locally', '', 'btn-local');
      } else {
        const key = !lh.ban.supported ? 'b' : 't';
        btn('hideUser', 'Hide user locally', key, 'btn-local', false, 'Collapse this user\'s messages in this console only; the platform is not told.');
      }
    }
    if (lh.message) {
      if (hidden.isMessageHidden(t.msg.channelId, t.msg.id)) btn('unhideMessage', 'Unhide message locally', '', 'btn-local');
      else btn('hideMessage', 'Hide message locally', 'x', 'btn-local', false, 'Collapse this message in this console only; the platform is not told.');
    }
    const collapsed = hidden.collapsed(t.msg);
    replace(this.detail,
      h('div', { class: 'detail-msg' },
        this.channelId ? null : this.channelLabel(t.msg.channelId),
        collapsed ? h('span', { class: 'muted' }, hidden.isMessageHidden(t.msg.channelId, t.msg.id) ? 'message hidden locally' : 'author hidden locally') : renderUser(t.msg.user),
        !collapsed && t.msg.user.role ? h('span', { class: 'tag' }, t.msg.user.role) : null,
        collapsed ? null : h('span', { class: 'sep' }, ': '),
        collapsed ? null : renderReplyContext(t.msg.replyTo, true),
        collapsed ? null : h('span', { class: 'msg-text full' }, renderText(t.msg)),
        collapsed ? null : editedTag(t.msg),
        t.item?.reasons?.length ? h('span', { class: 'reasons' }, ...t.item.reasons.map((r) => h('span', { class: 'tag tag-reason' }, r))) : null),
      collapsed ? null : this.versionsOf(t.msg),
      h('div', { class: 'detail-actions' }, ...btns),
      notes.length ? h('div', { class: 'detail-notes' }, ...notes) : null);
  }

  /** versionsOf renders the earlier texts of an edited message, fetching them once per edit count. */
  private versionsOf(m: MessageView): HTMLElement | null {
    const n = editCount(m);
    if (!n) return null;
    let v = this.versions.get(m.id);
    if (!v || v.edits !== n) {
      v = { edits: n, list: null };
      this.versions.delete(m.id);
      this.versions.set(m.id, v);
      while (this.versions.size > VERSIONS_CACHED) this.versions.delete(this.versions.keys().next().value as number);
      void this.loadVersions(m.id, v);
    }
    return renderVersions(v);
  }

  private async loadVersions(id: number, v: Versions): Promise<void> {
    try {
      const list = (await this.ctx.api.messageVersions(id)) ?? [];
      v.list = Array.isArray(list) ? list : [];
    } catch (e) {
      v.error = (e as Error).message || 'failed';
    }
    // Only redraw when this is still the entry shown for the selected message.
    if (this.versions.get(id) === v && this.target()?.msg.id === id) this.renderDetail();
  }

  private buildComposer(c: ChannelView | undefined): HTMLElement {
    const sendSpec = spec(c, 'send');
    const annSpec = spec(c, 'announce');
    const max = inputMaxLength(c);
    const input = h('input', { class: 'input grow', attrs: { type: 'text', maxlength: max, placeholder: sendSpec.supported ? `Send to ${c?.name ?? ''}` : `Cannot send: ${sendSpec.note ?? ''}`, 'aria-label': 'send message', 'data-testid': 'send-input', disabled: !sendSpec.supported } });
    const sendBtn = h('button', { class: 'btn btn-primary', attrs: { type: 'submit', disabled: !sendSpec.supported, 'data-testid': 'send-button' } }, 'Send');
    const effects = effectsOf(c);
    // Effects (Velora): a free-text effect with the documented names offered, and an optional colour.
    const listId = `effects-${this.channelId}`;
    const effectIn = effects.length ? h('input', { class: 'input effect-input', attrs: { type: 'text', list: listId, maxlength: 32, placeholder: 'effect', 'aria-label': 'message effect', 'data-testid': 'effect-input', title: `Message effect (${effects.join(', ')} offered; other names are sent as typed)` } }) : null;
    const effectList = effects.length ? h('datalist', { attrs: { id: listId } }, ...effects.map((x) => h('option', { attrs: { value: x } }))) : null;
    const colorOn = effects.length ? h('input', { attrs: { type: 'checkbox', 'aria-label': 'use an effect colour', 'data-testid': 'effect-color-on' } }) : null;
    const colorIn = effects.length ? h('input', { class: 'input effect-color', attrs: { type: 'color', value: '#ff00ff', 'aria-label': 'effect colour', 'data-testid': 'effect-color' } }) : null;
    if (colorOn && colorIn) colorIn.addEventListener('input', () => { colorOn.checked = true; });
    const effectBox = effects.length ? h('span', { class: 'effect-box', attrs: { 'data-testid': 'effect-box' } },
      effectIn, effectList, h('label', { class: 'effect-color-label', attrs: { title: 'effect colour (effectColor)' } }, colorOn, colorIn)) : null;
    const sendForm = h('form', { class: 'composer-row' }, input, effectBox, sendBtn);
    const replyBar = h('div', { class: 'reply-bar', attrs: { hidden: true, 'data-testid': 'reply-bar' } });
    this.replyBar = replyBar;
    this.sendInput = input;
    if (!canReply(c)) this.replyTo = null;
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.replyTo) {
        e.preventDefault();
        this.cancelReply();
      }
    });
    sendForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      const ch = this.channel();
      const replyTo = this.replyTo;
      const req = sendRequest(ch, this.channelId, text, { replyTo, effect: effectIn?.value, color: colorOn?.checked ? colorIn?.value : undefined });
      input.value = '';
      this.cancelReply();
      // A failure (refused now, or by the platform later) gives the typed
      // text back, unless something new was typed meanwhile.
      void this.ctx.act(req, replyTo ? `Reply to ${replyTo.user.displayName || replyTo.user.username}` : 'Send', () => {
        if (input.value) return;
        input.value = text;
        if (replyTo && !this.replyTo) this.startReply(replyTo, false);
      });
    });
    const rows: HTMLElement[] = [replyBar, sendForm];
    if (annSpec.supported) rows.push(this.buildAnnounce(c, annSpec, max));
    const clearSpec = spec(c, 'clear');
    const notes: HTMLElement[] = [];
    for (const k of CHANNEL_KINDS) {
      const s = spec(c, k);
      if (s.supported) continue;
      notes.push(h('span', { class: 'unsupported', attrs: { 'data-kind': k, 'data-testid': 'cap-note' } }, capNote(k, s.note)));
    }
    if (clearSpec.supported || notes.length) {
      let clearBtn: HTMLElement | null = null;
      if (clearSpec.supported) {
        clearBtn = h('button', { class: 'btn btn-danger', attrs: { type: 'button', 'data-verb': 'clear', title: clearSpec.note || 'clear the chat for everyone' } },
          'Clear chat…', clearSpec.inferred ? h('span', { class: 'inferred' }, 'inferred') : null);
        clearBtn.addEventListener('click', () => void this.clearChat());
      }
      rows.push(h('div', { class: 'composer-row composer-notes', attrs: { 'data-testid': 'channel-cap-notes' } }, clearBtn, ...notes));
    }
    return h('div', { class: 'composer' }, ...rows);
  }

  /** capsChanged rebuilds what depends on the channel's capabilities (they change when a connection comes up or turns read-only). */
  private capsChanged(): void {
    const c = this.channel();
    const key = capsKeyOf(c);
    if (key === this.capsKey || !this.composer) return;
    this.capsKey = key;
    const old = this.composer;
    const typed = [...old.querySelectorAll('input')].map((i) => [i.getAttribute('data-testid'), i.value] as const);
    const fresh = this.buildComposer(c);
    for (const [id, v] of typed) {
      const i = id ? fresh.querySelector<HTMLInputElement>(`input[data-testid="${id}"]`) : null;
      if (i && v && !i.disabled) i.value = v;
    }
    old.replaceWith(fresh);
    this.composer = fresh;
    this.renderReply();
    this.queueList.refresh();
    this.chatList?.refresh();
    this.renderDetail();
  }

  private async clearChat(): Promise<void> {
    const c = this.channel();
    if (!c) return;
    const r = await this.ctx.dialog.confirm(`Clear ${c.name}?`, `Clear the chat of ${c.name} for everyone on ${PLATFORM_NAMES[c.platform] ?? c.platform}.`, 'Clear chat', false);
    if (r) await this.ctx.act({ channelId: c.id, kind: 'clear' }, `Clear ${c.name}`);
  }

  private buildAnnounce(c: ChannelView | undefined, annSpec: ActionSpec, max: number): HTMLElement {
    const colors = c?.capabilities.announceColors ?? [];
    const colorSel = h('select', { class: 'input', attrs: { 'aria-label': 'announcement colour', disabled: !colors.length } },
      ...(colors.length ? colors : ['default']).map((col) => {
        const o = h('option', { attrs: { value: col } }, col);
        const hex = safeColor(col);
        if (hex) o.style.color = hex;
        return o;
      }));
    const annIn = h('input', { class: 'input grow', attrs: { type: 'text', maxlength: max, placeholder: 'Announcement', 'aria-label': 'announcement', 'data-testid': 'announce-input', title: annSpec.note || undefined } });
    const annBtn = h('button', { class: 'btn', attrs: { type: 'submit', 'data-testid': 'announce-button', title: annSpec.note || undefined } }, 'Announce', annSpec.inferred ? h('span', { class: 'inferred' }, 'inferred') : null);
    const annForm = h('form', { class: 'composer-row' }, annIn, colorSel, annBtn);
    annForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = annIn.value;
      if (!text.trim()) return;
      annIn.value = '';
      const color = colors.length ? colorSel.value : undefined;
      void this.ctx.act({ channelId: this.channelId, kind: 'announce', text, color }, 'Announce', () => {
        if (!annIn.value) annIn.value = text;
      });
    });
    if (!annSpec.note) return annForm;
    return h('div', { class: 'announce-wrap' }, annForm, h('div', { class: 'cap-note composer-note' }, `Announce: ${annSpec.note}`));
  }

  // ---- selection and actions ----

  private select(p: Pane, id: number): void {
    this.setFocus(p);
    if (p === 'queue') this.selQueue = id;
    else this.selChat = id;
    this.queueList.schedule();
    this.chatList?.schedule();
    this.renderDetail();
  }

  private move(delta: number): void {
    if (this.focus === 'queue') {
      if (!this.items.length) return;
      let i = this.items.findIndex((x) => x.id === this.selQueue);
      i = i < 0 ? (delta > 0 ? 0 : this.items.length - 1) : Math.max(0, Math.min(this.items.length - 1, i + delta));
      this.select('queue', this.items[i]!.id);
      this.queueList.reveal(i);
    } else {
      const w = chatWindow(this.ctx.state, this.channelId);
      if (!w.length) return;
      let i = w.indexOf(this.selChat);
      i = i < 0 ? w.length - 1 : Math.max(0, Math.min(w.length - 1, i + delta));
      this.select('chat', w.at(i)!.id);
      this.chatList?.reveal(i);
    }
  }

  private async run(verb: Verb, t: Target): Promise<void> {
    const cid = t.msg.channelId;
    const c = this.channel(cid);
    const who = t.msg.user.displayName || t.msg.user.username;
    const base = { channelId: cid, itemId: t.item?.id, messageId: t.msg.id, userId: t.msg.user.id, username: t.msg.user.username };
    if (verb === 'approve' || verb === 'dismiss') {
      if (!t.item) return;
      const status = verb === 'approve' ? 'approved' : 'dismissed';
      const idx = this.items.findIndex((x) => x.id === t.item!.id);
      try {
        const res = await this.ctx.api.resolveItem(t.item.id, status);
        if (!res || res.status !== 'open') this.ctx.state.queue.delete(t.item.id);
        else this.ctx.state.queue.set(res.id, res);
        this.refreshQueue();
        const next = this.items[Math.min(idx, this.items.length - 1)];
        if (next && this.selQueue === t.item.id) this.select('queue', next.id);
      } catch (e) {
        this.ctx.toast('error', (e as Error).message, `Could not ${verb} item`);
      }
      return;
    }
    if (verb === 'hideUser' || verb === 'unhideUser' || verb === 'hideMessage' || verb === 'unhideMessage') {
      this.local(verb, t, false);
      return;
    }
    if (verb === 'reply') {
      if (this.channelId && replyable(c, t.msg, t.deleted)) this.startReply(t.msg, true);
      return;
    }
    const kind: ActionKind = verb === 'timeoutAsk' ? 'timeout' : verb;
    const s = spec(c, kind);
    if (!s.supported && (kind === 'ban' || kind === 'timeout')) {
      // No ban/timeout on this platform (or read-only): hide the user locally; b asks first, as a ban does.
      if (this.ctx.hidden.isUserHidden(cid, t.msg.user.id)) {
        this.ctx.toast('info', `${who} is already hidden locally in ${c?.name ?? 'this channel'}; unhide from the channel header.`);
        return;
      }
      if (kind === 'ban') {
        const ok = await this.ctx.dialog.confirm(`Hide ${who} locally?`,
          `${c?.name ?? 'This channel'} cannot ban (${s.note || 'not supported'}). Hide ${who}'s messages in ${c?.name ?? 'this channel'} in this console only: nothing is sent, everyone else still sees them.`,
          'Hide locally', false);
        if (!ok) return;
      }
      this.local('hideUser', t, true);
      return;
    }
    if (!s.supported && kind === 'delete') {
      this.local(this.ctx.hidden.isMessageHidden(cid, t.msg.id) ? 'unhideMessage' : 'hideMessage', t, true);
      return;
    }
    if (!s.supported) {
      this.ctx.toast('warn', s.note || `${kind} is not supported here`, `${VERB_LABEL[kind] ?? kind} not available`);
      return;
    }
    switch (verb) {
      case 'ban': {
        const r = await this.ctx.dialog.confirm(`Ban ${who}?`, `Permanently ban ${who} from ${c?.name ?? 'this channel'}.`, 'Ban', true);
        if (r) await this.ctx.act({ ...base, kind: 'ban', reason: r.reason || undefined }, `Ban ${who}`);
        break;
      }
      case 'timeout': {
        const secs = c?.capabilities.timeoutPresets?.[0] ?? 600;
        await this.ctx.act({ ...base, kind: 'timeout', durationSeconds: secs }, `Timeout ${who} ${fmtDuration(secs)}`);
        break;
      }
      case 'timeoutAsk': {
        const r = await this.ctx.dialog.timeout(`Time out ${who}`, c?.capabilities.timeoutPresets ?? [], s.note);
        if (r) await this.ctx.act({ ...base, kind: 'timeout', durationSeconds: r.seconds, reason: r.reason || undefined }, `Timeout ${who} ${fmtDuration(r.seconds)}`);
        break;
      }
      case 'delete':
        await this.ctx.act({ ...base, kind: 'delete' }, `Delete message by ${who}`);
        break;
      case 'pin':
        await this.ctx.act({ ...base, kind: 'pin', text: t.msg.text }, `Pin message by ${who}`);
        break;
    }
  }

  /** local applies a local-only hide or unhide; nothing goes to the platform. */
  private local(verb: 'hideUser' | 'unhideUser' | 'hideMessage' | 'unhideMessage', t: Target, fromKey: boolean): void {
    const cid = t.msg.channelId;
    const c = this.channel(cid);
    const who = t.msg.user.displayName || t.msg.user.username || t.msg.user.id;
    const where = c?.name ?? 'this channel';
    const hidden = this.ctx.hidden;
    switch (verb) {
      case 'hideUser':
        hidden.hideUser(cid, t.msg.user.id, who);
        this.ctx.toast('info', `${who} is hidden in ${where}, only in this console. Unhide from the channel header.`, 'Hidden locally');
        break;
      case 'unhideUser':
        if (hidden.unhide('user', cid, t.msg.user.id)) this.ctx.toast('info', who, 'User shown again');
        break;
      case 'hideMessage':
        hidden.hideMessage(cid, t.msg.id, `${who}: ${t.msg.text}`);
        this.ctx.toast('info', `A message by ${who} is hidden in ${where}, only in this console.${fromKey ? ' Press x again to unhide.' : ''}`, 'Hidden locally');
        break;
      case 'unhideMessage':
        if (hidden.unhide('message', cid, t.msg.id)) this.ctx.toast('info', `message by ${who}`, 'Message shown again');
        break;
    }
  }

  private refreshQueue(): void {
    this.items = openQueue(this.ctx.state, this.channelId);
    if (this.selQueue && !this.ctx.state.queue.has(this.selQueue)) {
      if (this.focus === 'queue') this.renderDetail();
    }
    this.renderCounts();
    this.queueList.schedule();
  }

  /** openCard shows the user card of m's author. */
  private openCard(m: MessageView): void {
    openUserCard(this.ctx, document.querySelector<HTMLElement>('.dialog-host') ?? document.body, m.channelId, m.user.id, m.user.username);
  }

  key(e: KeyboardEvent): boolean {
    const t = this.target();
    switch (e.key) {
      case 'j':
      case 'ArrowDown':
        this.move(1);
        return true;
      case 'k':
      case 'ArrowUp':
        this.move(-1);
        return true;
      case 'Tab':
        if (!this.chatList) return false;
        this.setTab(this.focus === 'queue' ? 'chat' : 'queue');
        return true;
      case 'g':
        this.chatList?.scrollToBottom();
        return true;
      case 'a':
      case 'd':
        if (t?.item) void this.run(e.key === 'a' ? 'approve' : 'dismiss', t);
        return true;
      case 'b':
        if (t) void this.run('ban', t);
        return true;
      case 't':
        if (t) void this.run('timeout', t);
        return true;
      case 'T':
        if (t) void this.run('timeoutAsk', t);
        return true;
      case 'x':
        if (t && !t.deleted) void this.run('delete', t);
        return true;
      case 'p':
        if (t) void this.run('pin', t);
        return true;
      case 'u':
        if (t) this.openCard(t.msg);
        return true;
      case 'r':
        if (!t || !this.channelId || !replyable(this.channel(), t.msg, t.deleted)) return false;
        void this.run('reply', t);
        return true;
      case 'Escape':
        if (!this.replyTo) return false;
        this.cancelReply();
        return true;
    }
    return false;
  }

  // ---- replies ----

  /** startReply makes the next send answer m, shows it above the send box and, when asked, focuses the box. */
  private startReply(m: MessageView, focus: boolean): void {
    if (!replyable(this.channel(), m, false)) return;
    this.replyTo = m;
    this.renderReply();
    if (focus && this.sendInput && !this.sendInput.disabled) this.sendInput.focus();
  }

  private cancelReply(): void {
    if (!this.replyTo) return;
    this.replyTo = null;
    this.renderReply();
  }

  /** renderReply shows "Replying to <user>: <snippet>" (text only) with a cancel button, or hides the bar. */
  private renderReply(): void {
    const bar = this.replyBar;
    if (!bar) return;
    const m = this.replyTo;
    if (!m || !canReply(this.channel())) {
      this.replyTo = null;
      bar.hidden = true;
      replace(bar);
      return;
    }
    const cancel = h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': 'cancel reply', title: 'cancel reply (Esc)', 'data-testid': 'reply-cancel' } }, '×');
    cancel.addEventListener('click', () => {
      this.cancelReply();
      this.sendInput?.focus();
    });
    bar.hidden = false;
    bar.dataset.msgId = String(m.id);
    replace(bar, h('span', { class: 'reply-label', attrs: { 'data-testid': 'reply-label' } }, replyLabel(m)), cancel);
  }

  update(ch: Changes): void {
    if (ch.queue) this.refreshQueue();
    if (ch.notices.length && this.channelId) this.addNotices(ch.notices);
    if (ch.channels) {
      this.renderHeader();
      if (!this.channelId) this.queueList.refresh();
      else this.capsChanged();
    }
    const cid = this.channelId;
    if (cid && this.chatList) {
      const ev = ch.evicted.get(cid) ?? 0;
      if (ev) this.chatList.shifted(-ev);
      const add = ch.appended.get(cid) ?? 0;
      if (add) this.chatList.appended(add);
      if (ch.chat.has(cid)) this.chatList.schedule();
      if (ch.chat.has(cid) && this.focus === 'chat') this.renderDetail();
    }
    // A failed action is reported once, by the app's toast (ActionFailures);
    // the page adds no banner repeating it.
  }

  tick(): void {
    if (!this.channelId) return;
    const c = this.channel();
    if (c?.pinned) this.renderPin(c);
    if (c?.health.status === 'reconnecting') this.renderHeader();
  }
}

/** inputMaxLength bounds a text input (whose maxlength counts UTF-16 units)
 * without ever blocking a text the platform accepts: the API checks the exact
 * limit, counted the platform's way. */
export function inputMaxLength(c: ChannelView | undefined): number {
  const max = c?.capabilities.maxMessage || 500;
  // A rune is at most 2 UTF-16 units; a UTF-16 unit is at least 1 byte.
  return (c?.capabilities.messageUnit ?? 'runes') === 'runes' ? 2 * max : max;
}
