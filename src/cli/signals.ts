// Ctrl-C (SIGINT) and SIGTERM: the first asks the command to finish cleanly, the second exits at once
// (temp files are removed by the exit hook in src/video/exit-cleanup.ts).
import { EXIT } from '../errors.js';

export function onInterrupt(graceful: () => void): () => void {
  let count = 0;
  const handler = () => {
    if (count++ === 0) graceful();
    else process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
