// Builds the dashboard (web/src → web/dist/app.js + app.css): type-checks it with web/tsconfig.json, then
// bundles it with esbuild (uPlot and its CSS included, so the page loads nothing from elsewhere).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../web/src/main.ts', import.meta.url));
if (!existsSync(entry)) process.exit(0);

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('build-web: typescript not installed, bundling without a type check\n');
}
if (tsc) {
  try {
    execFileSync(process.execPath, [tsc, '-p', 'web/tsconfig.json'], { cwd: root, stdio: 'inherit' });
  } catch {
    process.stderr.write('build-web: the web app has type errors (above)\n');
    process.exit(1);
  }
}

const { build } = await import('esbuild');
await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: fileURLToPath(new URL('../web/dist/app.js', import.meta.url)),
  logLevel: 'warning',
});
