// Test harness for components: a real Console over a fake transport that
// answers API calls from a table, and mounting with that Console in context.
import { flushSync, mount, unmount, type Component } from 'svelte';
import type { Transport } from '../src/api/transport';
import { Console } from '../src/ui/console.svelte';
import { CONSOLE_KEY } from '../src/ui/context';

export type Answers = Record<string, (...args: unknown[]) => unknown>;

export function fakeConsole(answers: Answers = {}): { ctx: Console; calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
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
  return { ctx: new Console(t), calls };
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
