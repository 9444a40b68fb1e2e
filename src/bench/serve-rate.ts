// The dashboard's processing rate: the pipeline `serve` runs (Player over the live pipeline, as fast as it
// goes, looping the clip), with the explainer in this thread or in worker threads. Frames are counted as the
// broadcast sink gets them, over one whole loop of the clip after 8 warm-up frames.
import type { EngineOptions } from '../engine.js';
import { createExplainer } from '../explain/create.js';
import { Player } from '../server/player.js';
import type { Rate } from './stats.js';

export async function serveRate(clip: string, engine: EngineOptions, workers: number): Promise<Rate> {
  const explainer = await createExplainer({ ...engine, workers });
  let player: Player | undefined;
  try {
    await explainer.warmUp();
    player = await Player.open({ source: clip, engine: explainer, maxFps: 0, loop: true, autoplay: true });
    const total = player.source.frameCount ?? 38;
    const warm = Math.min(8, total);
    const measure = total;
    let seen = 0;
    let t0 = 0;
    const done = new Promise<number>((resolve) => {
      player!.events = {
        frame: () => {
          seen++;
          if (seen === warm) t0 = performance.now();
          else if (seen === warm + measure) resolve(performance.now() - t0);
        },
      };
    });
    player.start();
    const ms = await done;
    return { fps: (measure * 1000) / ms, frames: measure };
  } finally {
    await player?.close();
    explainer.dispose();
  }
}
