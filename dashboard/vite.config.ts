import { defineConfig } from 'vite';

// The dashboard builds to dashboard/dist, which the gateway serves at `/` (gateway/serve-static.ts).
// Everything is bundled: no CDN, no web fonts, so it works on a factory network with no internet.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Modern Chromium/Firefox on the floor PCs; skipping legacy transforms keeps the build fast.
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
