import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The SPA is built into web/dist and served by the console service itself. Each page is a chunk of its own
// (router.ts loads it when first opened) and so is ECharts (web/src/echarts.ts, shared by the charts' pages);
// a chunk over 700 KiB warns. `npm run size:web` prints the sizes.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 700 },
});
