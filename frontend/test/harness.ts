// Test harness for components: a real Console over a fake transport that
// answers API calls from a table, and mounting with that Console in context.
import { flushSync, mount, unmount, type Component } from 'svelte';
import type { Transport } from '../src/api/transport';
import type { QueueCountsView, QueueItemView, QueuePageView, QueueQuery } from '../src/api/types';
import { Console } from '../src/ui/console.svelte';
import { CONSOLE_KEY } from '../src/ui/context';

export type Answers = Record<string, (...args: unknown[]) => unknown>;

/**
 * queueServer is a fake server's queue for fakeConsole: the items by id, and the answers to QueuePage
 * (oldest first, keyset pages), ResolveItem and Act (a ban or timeout resolves the user's items, as the
 * service does). The server may hold more items than the console's state: the page must page them in.
 */
export function queueServer(items: QueueItemView[]): { server: Map<number, QueueItemView>; answers: Answers } {
  const server = new Map(items.map((it) => [it.id, it]));
  const answers: Answers = {
    QueuePage: (q) => {
      const { after, limit } = q as { after: number; limit: number };
      const open = [...server.values()].filter((it) => it.status === 'open').sort((a, b) => a.id - b.id);
      const rest = open.filter((it) => it.id > after);
      const page = rest.slice(0, limit);
      return { items: page, next: rest.length > limit ? page[page.length - 1]!.id : 0, total: open.length };
    },
    ResolveItem: (id, status) => {
      const it = server.get(id as number)!;
      server.set(it.id, { ...it, status: status as string });
      return { ...it, status };
    },
    Act: (req) => {
      const r = req as { itemId?: number; userId: string; kind: string };
      for (const it of server.values()) {
        if (it.id === r.itemId || ((r.kind === 'ban' || r.kind === 'timeout') && it.message.user.id === r.userId)) server.set(it.id, { ...it, status: 'actioned' });
      }
      return { id: 1, status: 'pending', updated: 1, kind: r.kind, channelId: 1 };
    },
  };
  return { server, answers };
}

export function fakeConsole(answers: Answers = {}): { ctx: Console; calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  // Unless a test answers them, the queue's pages and counts are the open
  // items the test put into the console's state, as the server would page them.
  answers = { QueuePage: (q) => queuePage(ctx, q as QueueQuery), QueueCounts: () => queueCounts(ctx), ...answers };
  const t: Transport = {
    kind: 'browser',
    async call<T>(method: string, ...args: unknown[]): Promise<T> {
      calls.push([method, args]);
      const fn = answers[method];
      if (!fn) return (method.startsWith('List') || method === 'ModEvents' || method === 'RecentMessages' || method === 'Queue' ? [] : null) as T;
      return (await fn(...args)) as T;
    },
    openExternal() {},
    subscribe() {},
  };
  const ctx = new Console(t);
  return { ctx, calls };
}

function queuePage(ctx: Console, q: QueueQuery): QueuePageView {
  const newest = q.order === 'newest';
  const all = [...ctx.state.queue.values()]
    .filter((it) => it.status === 'open' && (!q.channelId || it.channelId === q.channelId) && (!q.platform || it.platform === q.platform) && (!q.ruleId || (it.ruleIds ?? []).includes(q.ruleId)))
    .sort((a, b) => (newest ? b.id - a.id : a.id - b.id));
  const after = all.filter((it) => !q.after || (newest ? it.id < q.after : it.id > q.after));
  const limit = q.limit || 200;
  const items = after.slice(0, limit);
  return { items, next: after.length > limit ? items[items.length - 1]!.id : 0, total: all.length };
}

function queueCounts(ctx: Console): QueueCountsView {
  const channels: Record<number, number> = {};
  for (const it of ctx.state.queue.values()) channels[it.channelId] = (channels[it.channelId] ?? 0) + 1;
  return { total: ctx.state.queue.size, channels, platforms: {} };
}

export interface Mounted {
  el: HTMLElement;
  instance: Record<string, unknown>;
  destroy(): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function mountWith(C: Component<any>, props: Record<string, unknown>, ctx?: Console): Mounted {
  const el = document.createElement('div');
  document.body.appendChild(el);
  const instance = mount(C, { target: el, props, context: ctx ? new Map<unknown, unknown>([[CONSOLE_KEY, ctx]]) : undefined }) as Record<string, unknown>;
  flushSync();
  return {
    el,
    instance,
    destroy() {
      if (!el.isConnected) return;
      void unmount(instance);
      el.remove();
    },
  };
}

/** settle lets promises and Svelte's updates run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
  }
}
