// Builds the dashboard (web/src → web/dist) with esbuild. Replaced by the dashboard's own build when present.
import { existsSync } from 'node:fs';
if (!existsSync(new URL('../web/src/main.ts', import.meta.url))) process.exit(0);
const { build } = await import('esbuild');
await build({
  entryPoints: [new URL('../web/src/main.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: new URL('../web/dist/app.js', import.meta.url).pathname,
  logLevel: 'warning',
});
