import { defineConfig } from 'vite';

/**
 * Builds the dashboard into the server package (`@sisyphus/server` serves
 * `dist/dashboard/` at `/ui/`): hashed file names, no source maps, no
 * inline scripts or styles (the server's CSP forbids them). Paths are
 * relative to this folder (Vite's root when built with `npm run build`).
 */
export default defineConfig({
  base: '/ui/',
  // Vite 8 transforms TS/JSX with oxc: Preact's automatic JSX runtime.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../server/dist/dashboard',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // Never inline assets as data: URLs (CSP); the favicon is a file of its own.
    assetsInlineLimit: 0,
    // Every browser that runs ES2022 modules has modulepreload: no polyfill in the bundle.
    modulePreload: { polyfill: false },
  },
});
