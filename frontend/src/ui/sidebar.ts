// The channel list: "All queues", channels grouped by platform with health,
// viewers and open-queue counts, the join form and leave buttons.
import { PLATFORMS, PLATFORM_NAMES, type ChannelView } from '../api/types';
import { openQueue } from '../state/store';
import type { Ctx, Route } from './ctx';
import { h, replace } from './dom';
import { healthClass, healthText } from './health';

export class Sidebar {
  readonly el = h('nav', { class: 'sidebar', attrs: { 'aria-label': 'channels' } });
  private readonly list = h('div', { class: 'chan-list', attrs: { 'data-testid': 'channel-list' } });
  private readonly accountSel = h('select', { class: 'input', attrs: { 'aria-label': 'account' } });
  private readonly nameIn = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'channel name', 'aria-label': 'channel name', maxlength: 100 } });
  private route: Route = { page: 'queues', channelId: 0 };

  constructor(private readonly ctx: Ctx) {
    const form = h('form', { class: 'join-form', attrs: { 'aria-label': 'join channel' } },
      h('div', { class: 'side-title' }, 'Join channel'),
      this.accountSel,
      h('div', { class: 'row' }, this.nameIn, h('button', { class: 'btn btn-primary', attrs: { type: 'submit' } }, 'Join')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.join();
    });
    this.el.append(this.list, form);
  }

  setRoute(r: Route): void {
    this.route = r;
    this.render();
  }

  private async join(): Promise<void> {
    const acc = Number(this.accountSel.value);
    const name = this.nameIn.value.trim();
    if (!acc || !name) {
      this.ctx.toast('warn', 'Pick an account and type a channel name.');
      return;
    }
    try {
      const c = await this.ctx.api.joinChannel(acc, name);
      this.ctx.state.channels.set(c.id, c);
      this.nameIn.value = '';
      this.ctx.go({ page: 'queues', channelId: c.id });
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, `Could not join ${name}`);
    }
  }

  private async leave(c: ChannelView): Promise<void> {
    const ok = await this.ctx.dialog.confirm(`Leave ${c.name}?`, 'The channel stops being logged and moderated until you join it again.', 'Leave', false);
    if (!ok) return;
    try {
      await this.ctx.api.leaveChannel(c.id);
      this.ctx.state.channels.delete(c.id);
      this.ctx.state.chat.delete(c.id);
      if (this.route.page === 'queues' && this.route.channelId === c.id) this.ctx.go({ page: 'queues', channelId: 0 });
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, `Could not leave ${c.name}`);
    }
  }

  private async retry(c: ChannelView): Promise<void> {
    try {
      const v = await this.ctx.api.retryChannel(c.id);
      this.ctx.state.channels.set(v.id, v);
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, `Could not join ${c.name}`);
    }
  }

  /** queueCount prefers the locally known open items, which move at once, over the server's count. */
  private queueCount(c: ChannelView): number {
    return this.ctx.queueLoaded() ? openQueue(this.ctx.state, c.id).length : c.queueOpen;
  }

  render(): void {
    const s = this.ctx.state;
    const sel = this.route.page === 'queues' ? this.route.channelId : -1;
    const total = this.ctx.queueLoaded() ? s.queue.size : [...s.channels.values()].reduce((n, c) => n + c.queueOpen, 0);
    const all = h('button', { class: `chan all ${sel === 0 ? 'selected' : ''}`, attrs: { type: 'button', 'data-testid': 'all-queues' } },
      h('span', { class: 'chan-name' }, 'All queues'),
      total ? h('span', { class: 'badge badge-queue' }, String(total)) : null);
    all.addEventListener('click', () => this.ctx.go({ page: 'queues', channelId: 0 }));
    const groups: HTMLElement[] = [all];
    const now = Date.now();
    for (const p of PLATFORMS) {
      const chans = [...s.channels.values()].filter((c) => c.platform === p).sort((a, b) => a.name.localeCompare(b.name));
      if (!chans.length) continue;
      groups.push(h('div', { class: `side-title plat-${p}` }, PLATFORM_NAMES[p]));
      for (const c of chans) {
        const q = this.queueCount(c);
        const leave = h('button', { class: 'icon-btn leave', attrs: { type: 'button', title: 'leave channel', 'aria-label': `leave ${c.name}` } }, '×');
        leave.addEventListener('click', (e) => {
          e.stopPropagation();
          void this.leave(c);
        });
        let retry: HTMLElement | null = null;
        if (c.joinFailed) {
          retry = h('button', { class: 'btn btn-small retry', attrs: { type: 'button', title: 'join this channel again', 'data-testid': 'retry-join', 'aria-label': `retry joining ${c.name}` } }, 'Retry');
          retry.addEventListener('click', (e) => {
            e.stopPropagation();
            void this.retry(c);
          });
        }
        const item = h('div', {
          class: `chan ${sel === c.id ? 'selected' : ''} ${healthClass(c.health)}`,
          attrs: { role: 'button', tabindex: 0, 'data-testid': 'channel', 'data-status': c.health?.status ?? '' },
          dataset: { channelId: c.id },
        },
          h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }),
          h('span', { class: 'chan-main' },
            h('span', { class: 'chan-name' }, c.name, c.readOnly ? h('span', { class: 'tag tag-ro' }, 'RO') : null),
            h('span', { class: 'chan-health', attrs: { 'data-testid': 'health' } }, healthText(c.health, c.readOnly, now))),
          h('span', { class: 'chan-side' },
            q ? h('span', { class: 'badge badge-queue', attrs: { title: 'open queue items' } }, String(q)) : null,
            h('span', { class: 'viewers', attrs: { title: 'viewers' } }, fmtCount(c.viewers))),
          retry,
          leave);
        item.addEventListener('click', () => this.ctx.go({ page: 'queues', channelId: c.id }));
        item.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.ctx.go({ page: 'queues', channelId: c.id }); });
        groups.push(item);
      }
    }
    if (!s.channels.size) groups.push(h('div', { class: 'empty' }, 'No channels joined yet.'));
    replace(this.list, ...groups);

    const cur = this.accountSel.value;
    const opts = [...s.accounts.values()].map((a) =>
      h('option', { attrs: { value: a.id } }, `${PLATFORM_NAMES[a.platform] ?? a.platform} · ${a.name}${a.hasToken ? '' : ' (guest)'}`));
    if (!opts.length) opts.push(h('option', { attrs: { value: '' } }, 'no accounts: add one under Accounts'));
    replace(this.accountSel, ...opts);
    if (cur) this.accountSel.value = cur;
  }
}

export function fmtCount(n: number): string {
  if (!n) return '0';
  if (n < 1000) return String(n);
  if (n < 100_000) return `${(n / 1000).toFixed(1)}k`;
  return `${Math.round(n / 1000)}k`;
}
