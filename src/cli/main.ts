#!/usr/bin/env node
import { tuneGarbageCollection } from './gc-tuning.js';
import { run } from './program.js';

tuneGarbageCollection();
const code = await run(process.argv);
// Let pending writes drain, then exit even if a native handle (WASM, ffmpeg pipes) would keep the loop alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
