// Credit-based backpressure between a pull source (the decoder) and an RxJS pipeline: at most `window`
// items are emitted and not yet acknowledged by the pipeline's last stage. The decoder is pulled only when
// there is credit, so a slow stage pauses ffmpeg instead of filling memory.
import { Observable } from 'rxjs';

export interface PulledSource<T> {
  readonly items$: Observable<T>;
  /** The last stage calls this once per item it has finished with. */
  ack(): void;
  /** Stop pulling: items in flight still flow, then items$ completes. */
  stop(): void;
  /** Items emitted and not yet acknowledged. */
  readonly inFlight: number;
}

export function pullSource<T>(iterable: AsyncIterable<T>, window: number): PulledSource<T> {
  let credit = window;
  let inFlight = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const items$ = new Observable<T>((subscriber) => {
    const it = iterable[Symbol.asyncIterator]();
    let closed = false;
    (async () => {
      try {
        while (!closed && !stopped) {
          if (credit <= 0) {
            await new Promise<void>((r) => (wake = r));
            continue;
          }
          const next = await it.next();
          if (next.done || closed) break;
          credit--;
          inFlight++;
          subscriber.next(next.value);
        }
        subscriber.complete();
      } catch (err) {
        subscriber.error(err);
      }
    })();
    // Unsubscribing is cancellation: let the iterator release its resources (the decoder kills ffmpeg).
    return () => {
      closed = true;
      signal();
      void it.return?.();
    };
  });

  return {
    items$,
    ack() {
      credit++;
      inFlight--;
      signal();
    },
    stop() {
      stopped = true;
      signal();
    },
    get inFlight() {
      return inFlight;
    },
  };
}
