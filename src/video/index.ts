// Video I/O: locate ffmpeg, probe sources, decode to RGB frames, encode frames to mp4, atomic writes.
export { locateFfmpeg, resetFfmpegLocation, type FfmpegLocation, type FfmpegSource } from './ffmpeg-locate.js';
export { type SourceInfo } from './probe.js';
export { openDecoder, probeSource } from './open.js';
export { classifySource, type SourceKind } from './source.js';
export { type Decoder, type DecodeOptions, type DecodeResult } from './decode.js';
export { openEncoder, type Encoder, type EncodeOptions } from './encode.js';
export { writeFileAtomic, checkOutputPath } from './atomic.js';
