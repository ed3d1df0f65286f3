import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// keepPlaceholder re-creates dist/.keep after a build empties dist/, so the
// tracked placeholder the Go embed relies on never shows up as deleted.
function keepPlaceholder(): Plugin {
  return {
    name: 'keep-placeholder',
    closeBundle() {
      writeFileSync(fileURLToPath(new URL('./dist/.keep', import.meta.url)), '');
    },
  };
}

// `npm run dev` serves the UI with hot reload against a running console:
//   ./modconsole demo --no-open --addr 127.0.0.1:8787
//   MODCONSOLE_URL='http://127.0.0.1:8787/?token=…' npm run dev
// /api and its event stream are proxied to the console as its own origin
// (its Host and Origin checks refuse any other), carrying the session cookie
// this proxy got by trading the printed ?token= once at start.
const consoleUrl = new URL(process.env.MODCONSOLE_URL || 'http://127.0.0.1:8787/');
const backend = consoleUrl.origin;
let session = '';

async function tradeToken(): Promise<void> {
  if (!consoleUrl.searchParams.get('token')) return;
  try {
    const res = await fetch(consoleUrl, { redirect: 'manual' });
    session = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  } catch (e) {
    console.warn(`dev: could not reach ${backend}: ${(e as Error).message}`);
  }
}

export default defineConfig({
  base: './',
  server: {
    proxy: {
      '/api': {
        target: backend,
        changeOrigin: true,
        ws: true,
        configure(proxy) {
          void tradeToken();
          const own = (req: { setHeader(k: string, v: string): void }) => {
            req.setHeader('origin', backend);
            if (session) req.setHeader('cookie', session);
          };
          proxy.on('proxyReq', own);
          proxy.on('proxyReqWs', own);
        },
      },
    },
  },
  plugins: [svelte(), keepPlaceholder()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The strict CSP forbids inline scripts: no modulepreload polyfill, no
    // inlined assets that would need data: scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
  },
  // Component tests mount Svelte's client runtime in happy-dom.
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
