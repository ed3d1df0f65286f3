import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
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

export default defineConfig({
  base: './',
  plugins: [keepPlaceholder()],
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
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
