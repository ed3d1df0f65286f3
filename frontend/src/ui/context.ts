// The Console instance every component reads, through Svelte's context.
import { getContext, setContext } from 'svelte';
import type { Console } from './console.svelte';

export const CONSOLE_KEY = Symbol('console');

export function provideConsole(c: Console): void {
  setContext(CONSOLE_KEY, c);
}

export function useConsole(): Console {
  const c = getContext<Console | undefined>(CONSOLE_KEY);
  if (!c) throw new Error('ui: no console in context');
  return c;
}
