#!/usr/bin/env node
// Downloads the sample clips listed in manifest.json that are missing (or damaged) and checks their
// sha256. Plain Node (>= 20), no dependencies.
//   node clips/fetch.mjs            fetch into clips/
//   node clips/fetch.mjs --dir D    fetch into folder D
//   node clips/fetch.mjs --check    only verify what is there; exit 1 if anything is missing or wrong
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const checkOnly = args.includes('--check');
const dirFlag = args.indexOf('--dir');
const dir = resolve(dirFlag >= 0 && args[dirFlag + 1] ? args[dirFlag + 1] : here);
const TIMEOUT_MS = 120_000;

const manifest = JSON.parse(await readFile(join(here, 'manifest.json'), 'utf8'));

async function sha256OfFile(path) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** 'ok' | 'missing' | 'mismatch' */
async function state(file) {
  const path = join(dir, file.name);
  try {
    const st = await stat(path);
    if (st.size !== file.size) return 'mismatch';
  } catch {
    return 'missing';
  }
  return (await sha256OfFile(join(dir, file.name))) === file.sha256 ? 'ok' : 'mismatch';
}

/** Streams the URL to a temp file beside the target while hashing; renames only when size and hash match. */
async function download(file) {
  const target = join(dir, file.name);
  const temp = join(dir, `.${file.name}.partial-${process.pid}`);
  const res = await fetch(file.url, { redirect: 'follow', signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body), tap, createWriteStream(temp));
    const digest = hash.digest('hex');
    if (digest !== file.sha256) {
      // A ~130-byte download is typically a Git LFS pointer or an HTML error page, not the file.
      throw new Error(`checksum mismatch: got ${size} bytes with sha256 ${digest}, expected ${file.size} bytes ${file.sha256}`);
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  return size;
}

if (!checkOnly) await mkdir(dir, { recursive: true });
let failed = 0;
for (const file of manifest.files) {
  const now = await state(file);
  if (now === 'ok') {
    console.log(`ok       ${file.name}`);
    continue;
  }
  if (checkOnly) {
    console.error(`${now.padEnd(8)} ${file.name}`);
    failed++;
    continue;
  }
  process.stdout.write(`fetching ${file.name}${now === 'mismatch' ? ' (existing copy is damaged)' : ''} … `);
  try {
    const size = await download(file);
    console.log(`${(size / 1024).toFixed(0)} KiB, sha256 ok`);
  } catch (err) {
    const reason = err?.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : err?.cause?.message ?? err?.message ?? String(err);
    console.log('failed');
    console.error(`  could not fetch ${file.url}: ${reason}`);
    failed++;
  }
}
if (failed) {
  console.error(
    `${failed} of ${manifest.files.length} clips ${checkOnly ? 'missing or damaged' : 'could not be fetched'} in ${dir}.` +
      (checkOnly ? ' Run `node clips/fetch.mjs` to fetch them.' : ' Check your connection, or download them by hand from the URLs in clips/manifest.json.'),
  );
  process.exit(1);
}
console.log(`all ${manifest.files.length} clips present in ${dir}`);
