// The one entry point for opening a source: MCAP recordings go to src/recording/, everything else to ffmpeg.
import { openRecordingDecoder, probeRecording } from '../recording/mcap-decoder.js';
import { isRecordingInput } from '../recording/input-name.js';
import { openDecoder as openFfmpegDecoder, type DecodeOptions, type Decoder } from './decode.js';
import { probeSource as probeFfmpegSource, type SourceInfo } from './probe.js';

export function probeSource(input: string): Promise<SourceInfo> {
  return isRecordingInput(input) ? probeRecording(input) : probeFfmpegSource(input);
}

export function openDecoder(input: string, opts: DecodeOptions = {}): Promise<Decoder> {
  return isRecordingInput(input) ? openRecordingDecoder(input, opts) : openFfmpegDecoder(input, opts);
}
