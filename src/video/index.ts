// Video I/O: locate ffmpeg, probe sources, decode to RGB frames, encode frames to mp4, atomic side files.
export { locateFfmpeg, resetFfmpegLocation, type FfmpegLocation, type FfmpegSource } from './ffmpeg-locate.js';
export { probeSource, type SourceInfo } from './probe.js';
export { classifySource, type SourceKind } from './source.js';
export { openDecoder, type Decoder, type DecodeOptions, type DecodeResult } from './decode.js';
export { openEncoder, type Encoder, type EncodeOptions } from './encode.js';
export { writeFileAtomic, checkOutputPath } from './atomic.js';
export { openSidecar, type Sidecar } from './sidecar.js';
