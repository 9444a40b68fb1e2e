import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { useTmpDir } from './helpers/clips.js';
import { video } from './helpers/video-fixtures.js';

const tmp = useTmpDir();

describe('terminal Ctrl-C', () => {
  it('reaches our process, not the ffmpeg children, so we decide how to stop', async () => {
    // The child runs in its own process group (detached), and the SIGINT goes to that whole group,
    // exactly as a terminal sends it to the foreground job.
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('test/helpers/sigint-child.ts'), video(), join(tmp.dir, 'out.mp4')], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('READY')) res();
      });
      child.on('exit', () => rej(new Error(`child exited before READY: ${stderr}`)));
    });
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, stderr).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      interrupted: boolean;
      frames: number;
      decode: { frames: number; complete: boolean };
      encoded: number | string;
      writeError?: string;
    };
    expect(report.interrupted).toBe(true);
    expect(report.writeError).toBeUndefined();
    expect(report.frames).toBe(38);
    expect(report.decode).toMatchObject({ frames: 38, complete: true });
    expect(report.encoded).toBe(38);
  });
});
