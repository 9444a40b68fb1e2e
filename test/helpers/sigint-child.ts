// Child process for test/video-signals.test.ts: decodes the clip into an encoder, says READY after a few
// frames, waits for the SIGINT the test sends to its whole process group, then finishes normally and
// prints what happened as JSON. If the signal had reached ffmpeg, decoding or encoding would break off.
import { setTimeout as sleep } from 'node:timers/promises';
import { openDecoder } from '../../src/video/decode.js';
import { openEncoder } from '../../src/video/encode.js';

const [input, output] = process.argv.slice(2) as [string, string];
let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
});

const decoder = await openDecoder(input);
const encoder = await openEncoder(output, { width: decoder.info.width, height: decoder.info.height, fps: decoder.info.fps });
let frames = 0;
let writeError: string | undefined;
for await (const frame of decoder) {
  try {
    await encoder.write(frame.rgb);
  } catch (err) {
    writeError ??= (err as Error).message;
  }
  frames++;
  if (frames === 5) {
    process.stdout.write(`READY ${decoder.pid} ${encoder.pid}\n`);
    for (let i = 0; i < 200 && !interrupted; i++) await sleep(25);
    await sleep(300); // time for an unprotected ffmpeg to die of the signal
  }
}
const encoded = await encoder.finish().then((r) => r.frames, (err: Error) => err.message);
process.stdout.write(`${JSON.stringify({ interrupted, frames, decode: await decoder.done, encoded, writeError })}\n`);
