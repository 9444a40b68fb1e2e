// V8's heap growth for a frame pipeline. Each frame allocates megabytes of short-lived buffers (the decoded
// frame, the overlay, pipe chunks) and little that lives; after a major GC V8 sets the next limit so close
// above the ~33 MB that survives that it starts marking again within half a second, so major GCs ran about twice
// a second and their concurrent marking took ~25 ms of CPU per frame on the helper threads. Letting the heap
// double before the next one (~70 MB here) halved both: 48 → 15 major GCs over the same 84 frames of `serve`
// (--trace-gc), helper-thread CPU 26 → 13 ms per frame (/proc per-thread times). The flag is read at each GC, so
// setting it here, before the pipeline starts, is in time; worker threads share it.
import v8 from 'node:v8';

export function tuneGarbageCollection(): void {
  v8.setFlagsFromString('--heap-growing-percent=100');
}
