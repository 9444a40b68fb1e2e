// saliencam as another project sees it: `npm pack`, install the tarball into an empty project offline, run the
// README's "Use it from code" example there, check the raw maps against this checkout's and typecheck a consumer.
//
// Offline and on a clean clone after `npm ci`: the npm cache need not hold the dependencies' metadata, so the
// consumer's lockfile lists saliencam alone (as npm would write it for the tarball) and `npm ci --offline`
// installs just the tarball, running its postinstall as a consumer's npm does. The dependencies resolve from a
// node_modules one folder above the consumer, a link to this checkout's (Node looks in every parent folder).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainImage } from '../src/index.js';
import { useTmpDir } from './helpers/clips.js';
import { seededRandom, writeSeededClassifier } from './helpers/toy-models.js';

const run = promisify(execFile);
const tmp = useTmpDir('package-api-');
let consumer: string;
let tarball: string;
let installLog: string;

/** The README's example: the first ```js block of the "Use it from code" section. */
async function readmeExample(): Promise<string> {
  const readme = await readFile('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Use it from code'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README: no js example under "Use it from code"');
  return m[1]!;
}

beforeAll(async () => {
  const pack = join(tmp.dir, 'pack');
  await mkdir(pack);
  // The suite's global setup has built dist/; `prepare` would build again.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', pack], { maxBuffer: 16 << 20 });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  consumer = join(tmp.dir, 'outside', 'consumer');
  await mkdir(consumer, { recursive: true });
  await symlink(resolve('node_modules'), join(tmp.dir, 'outside', 'node_modules'), 'dir');
  tarball = join(consumer, filename);
  await copyFile(join(pack, filename), tarball);
  const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
  const spec = `file:${filename}`;
  const version = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version;
  // allowScripts: npm ≥ 11.16 runs a dependency's install scripts only when approved (a consumer's choice; here to check postinstall).
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { saliencam: spec }, allowScripts: { [`file:${tarball}`]: true } }));
  await writeFile(
    join(consumer, 'package-lock.json'),
    JSON.stringify({
      name: 'consumer',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'consumer', dependencies: { saliencam: spec } },
        'node_modules/saliencam': { version, resolved: spec, integrity, license: 'MIT', hasInstallScript: true, bin: { saliencam: 'bin/saliencam.js' } },
      },
    }),
  );
  const ci = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: consumer, maxBuffer: 16 << 20 });
  installLog = ci.stdout + ci.stderr;
  await writeFile(join(consumer, 'example.mjs'), await readmeExample());
});

describe('the packed library', () => {
  it('installs from the tarball: entry, types and runtime files only (postinstall ran, prepare did not)', async () => {
    // npm runs a tarball dependency's postinstall (chmod of the bundled ffmpeg), never its prepare (a build
    // from sources the package does not ship).
    expect(installLog).toMatch(/saliencam@[\d.]+ postinstall/);
    expect(installLog).not.toMatch(/saliencam@[\d.]+ prepare/);
    const pkg = join(consumer, 'node_modules', 'saliencam');
    expect(existsSync(join(pkg, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(pkg, 'test'))).toBe(false);
    expect(await readdir(join(pkg, 'scripts'))).toEqual(['postinstall.mjs']);
    // The bundled sample drive is most of it (the CLI's bench and first run use it).
    expect((await stat(tarball)).size).toBeLessThan(4 << 20);
  });

  it("runs the README's example from another project", async () => {
    const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: consumer, timeout: 120_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^car: \d+x\d+ map, raw peak \d\.\d+(e-\d+)?, 921600 pixels upsampled$/);
    expect(lines.some((l) => l.startsWith('test2.jpg '))).toBe(true);
    expect(lines.some((l) => l.startsWith('test3.jpg '))).toBe(true);
  });

  it("gives the same raw maps as this checkout's engine, and its types check in a strict consumer", async () => {
    const net = await writeSeededClassifier(join(tmp.dir, 'seeded'), 42);
    const rnd = seededRandom(3);
    const rgb = Uint8Array.from({ length: net.size * net.size * 3 }, () => Math.floor(rnd() * 256));
    await writeFile(join(consumer, 'rgb.bin'), rgb);
    const options = { model: net.path, backend: 'wasm' as const, method: 'gradcam++' as const, classes: ['class_0', 'class_2'] };
    const script = `
      import { readFileSync } from 'node:fs';
      import { explainImage } from 'saliencam';
      const rgb = new Uint8Array(readFileSync('rgb.bin'));
      const { maps } = await explainImage({ rgb, width: ${net.size}, height: ${net.size} }, ${JSON.stringify(options)});
      process.stdout.write(JSON.stringify(maps.map((m) => ({ classId: m.classId, raw: Array.from(m.raw) }))));
    `;
    await writeFile(join(consumer, 'raw.mjs'), script);
    const { stdout } = await run(process.execPath, ['raw.mjs'], { cwd: consumer, timeout: 60_000 });
    const outside = JSON.parse(stdout) as { classId: number; raw: number[] }[];
    const inside = await explainImage({ rgb, width: net.size, height: net.size }, options);
    expect(outside.map((m) => m.classId)).toEqual(inside.maps.map((m) => m.classId));
    expect(outside.map((m) => m.classId).sort()).toEqual([0, 2]);
    for (const [i, m] of inside.maps.entries()) {
      expect(m.raw.some((v) => v > 0)).toBe(true);
      expect(outside[i]!.raw).toEqual(Array.from(m.raw));
    }

    // The declarations are real types: a wrong option must be a type error (an `any` export would pass it).
    await writeFile(
      join(consumer, 'typed.ts'),
      `import { createExplainer, explainImage, UserError, type ExplanationMap, type ExplainRecord } from 'saliencam';
       const { record, maps } = await explainImage('x.jpg', { method: 'xgradcam', minScore: 0.5, perDetection: true });
       const r: ExplainRecord = record;
       const m: ExplanationMap | undefined = maps[0];
       const raw: Float32Array | undefined = m?.raw;
       const up: Float32Array | undefined = m?.upsample(r.width, r.height, 'raw');
       const e = await createExplainer({ model: 'centernet', workers: 0 });
       e.dispose();
       // @ts-expect-error minScore is a number
       await explainImage('x.jpg', { minScore: 'high' });
       // @ts-expect-error no such method
       await explainImage('x.jpg', { method: 'gradcam3' });
       export { raw, up, UserError };
      `,
    );
    const tsc = resolve('node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'typed.ts'], { cwd: consumer }).catch((err: { stdout?: string }) => {
      throw new Error(`consumer typecheck failed:\n${err.stdout ?? String(err)}`);
    });
  });
});
