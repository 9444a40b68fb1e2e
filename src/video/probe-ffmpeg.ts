// Probing with ffmpeg alone, for installs without ffprobe: the offline kit ships one static ffmpeg rather
// than two ~70 MB binaries. `ffmpeg -i` prints the facts probe.ts needs as its input header; this reads them
// into ffprobe's shape so probe.ts describes both alike. The header is text meant for people, so only the
// fields probe.ts uses are read, and a test checks them against ffprobe on the sample clips.
import { execFile } from 'node:child_process';
import type { FfprobeData, FfprobeStream } from 'fluent-ffmpeg';

/**
 * `countFrames`: also demux the first video stream to count its packets (`-c copy`, no decoding), which
 * gives the exact frame count that ffprobe reads from the container. Only for finite files.
 */
export function ffmpegProbe(ffmpegPath: string, target: string, inputOptions: string[], countFrames: boolean): Promise<FfprobeData> {
  const output = countFrames ? ['-map', '0:v:0?', '-c', 'copy', '-f', 'null', '-'] : [];
  const args = ['-hide_banner', '-nostdin', ...inputOptions, '-i', target, ...output];
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: 120_000 }, (err, _stdout, stderr) => {
      // Without an output ffmpeg always exits 1 after printing the header, so the header decides; a count
      // that did not finish (no video stream, a damaged tail) is left out, as ffprobe leaves out what it lacks.
      const data = /^Input #0, /m.test(stderr) ? parseFfmpegHeader(stderr, countFrames && !err) : undefined;
      if (data) resolve(data);
      else reject(new Error(stderr.replace(/\r/g, '\n').split('\n').filter((l) => l.trim() && !/output file must be specified/.test(l)).join('\n') || String(err)));
    });
  });
}

/** ffmpeg's input header (and, after a counting pass, its last progress line) in ffprobe's shape. */
export function parseFfmpegHeader(stderr: string, counted = false): FfprobeData {
  const lines = stderr.replace(/\r/g, '\n').split('\n');
  const format_name = /^Input #0, (.+), from '/m.exec(stderr)?.[1];
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  const duration = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : undefined;
  const streams: FfprobeStream[] = [];
  let current: FfprobeStream | undefined;
  for (const line of lines) {
    // The input header ends where the output (a counting pass) begins.
    if (/^\s*Output #|^Stream mapping:/.test(line)) break;
    const s = /^\s*Stream #0:(\d+)\S*: (Video|Audio|Subtitle|Data|Attachment): (\w+)(.*)$/.exec(line);
    if (s) {
      current = { index: Number(s[1]), codec_type: s[2]!.toLowerCase(), codec_name: s[3], disposition: { attached_pic: /\(attached pic\)/.test(s[4]!) ? 1 : 0 } };
      if (current.codec_type === 'video') readVideoLine(current, s[4]!);
      streams.push(current);
      continue;
    }
    if (!current) continue;
    const rotate = /^\s*rotate\s*:\s*(-?\d+)/.exec(line);
    if (rotate) current.tags = { ...current.tags, rotate: rotate[1] };
    const matrix = /displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(line);
    if (matrix) current.rotation = matrix[1];
  }
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1];
  const video = streams.find((st) => st.codec_type === 'video' && !st.disposition?.attached_pic);
  if (counted && frames !== undefined && video) video.nb_frames = frames;
  // The container's metadata comes before its first stream.
  const created = /^\s*creation_time\s*:\s*(\S+)/m.exec(stderr.split(/^\s*Stream #0:/m)[0] ?? '')?.[1];
  return { streams, format: { format_name, duration, ...(created ? { tags: { creation_time: created } } : {}) }, chapters: [] };
}

function readVideoLine(stream: FfprobeStream, rest: string): void {
  const size = /, (\d+)x(\d+)[ ,[]/.exec(`${rest} `);
  if (size) [stream.width, stream.height] = [Number(size[1]), Number(size[2])];
  const rate = (unit: string): string | undefined => {
    const m = new RegExp(`, (\\d+(?:\\.\\d+)?)(k?) ${unit}\\b`).exec(rest);
    return m ? String(Number(m[1]) * (m[2] ? 1000 : 1)) : undefined;
  };
  // A still has no `fps` in the header; ffprobe reports its tbr as the average rate.
  stream.r_frame_rate = rate('tbr');
  stream.avg_frame_rate = rate('fps') ?? stream.r_frame_rate;
}
