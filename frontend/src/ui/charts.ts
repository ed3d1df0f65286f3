// The chart library (uPlot), loaded once, on first use, as its own chunk:
// the console's first paint does not parse it (docs/decisions/frontend.md).
import type uPlot from 'uplot';

let loading: Promise<typeof uPlot> | null = null;

/** loadUPlot resolves to uPlot's constructor; a failed load is tried again on the next call. */
export function loadUPlot(): Promise<typeof uPlot> {
  if (!loading) {
    loading = import('uplot').then((m) => m.default, (e: unknown) => {
      loading = null;
      throw e instanceof Error ? e : new Error(String(e));
    });
  }
  return loading;
}
