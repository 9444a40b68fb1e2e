// A stand-in for the frame engine that answers in about a millisecond: fixed detections (car, truck,
// person) and small saliency maps peaked on each box. Server tests use it where the subject is the
// server (queues, protocol, transport) and a 0.5-2 s model run per frame would only slow them down.
import type { Detection, ExplainedFrame, ExplainOptions, Explainer, Frame, SaliencyMap } from '../../src/types.js';
import { COCO_CLASSES } from '../../src/model/coco.js';
import { methodsFor } from '../../src/saliency/methods/index.js';

const BASE: Detection[] = [
  { label: 'car', classId: 2, score: 0.9, box: [100, 300, 400, 500] },
  { label: 'car', classId: 2, score: 0.7, box: [700, 350, 900, 480] },
  { label: 'truck', classId: 7, score: 0.6, box: [950, 250, 1250, 520] },
];

export interface StubEngine extends Explainer {
  /** Every call's overrides, newest last. */
  calls: Partial<ExplainOptions>[];
}

export function stubEngine(options: { maps?: boolean; delayMs?: number } = {}): StubEngine {
  const calls: Partial<ExplainOptions>[] = [];
  return {
    backend: 'stub',
    model: 'stub',
    classNames: COCO_CLASSES,
    // A detector like CenterNet: PolyCAM layers, no classifier weights (so no `cam`).
    methods: methodsFor({ polyLayers: ['low', 'mid', 'high'] }),
    concurrency: 1,
    calls,
    warmUp: async () => 0,
    dispose: () => undefined,
    async explain(frame: Frame, o: Partial<ExplainOptions> = {}): Promise<ExplainedFrame> {
      calls.push(o);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const allowed = o.classes?.length ? new Set(o.classes) : undefined;
      const detections = BASE.filter((d) => !allowed || allowed.has(d.label)).map((d) => ({ ...d, box: [...d.box] as Detection['box'] }));
      const targets = o.perDetection
        ? detections.map((d, i) => ({ label: d.label, classId: d.classId, boxes: [d.box], detectionIndex: i as number | undefined }))
        : [...new Set(detections.map((d) => d.label))].map((label) => {
            const ds = detections.filter((d) => d.label === label);
            return { label, classId: ds[0]!.classId, boxes: ds.map((d) => d.box), detectionIndex: undefined as number | undefined };
          });
      const maps: SaliencyMap[] = options.maps === false ? [] : targets.map((t) => peakMap(t, frame));
      return {
        frame,
        detections,
        maps,
        record: {
          source: '',
          width: frame.width,
          height: frame.height,
          model: 'stub',
          backend: 'stub',
          method: o.method ?? 'xgradcam',
          detections,
          saliency: targets.map((t) => ({
            label: t.label,
            ...(t.detectionIndex !== undefined ? { detectionIndex: t.detectionIndex } : {}),
            energyInBoxes: t.label === 'car' ? 0.6 : 0.4,
            areaInBoxes: 0.1,
            peak: [t.boxes[0]![0], t.boxes[0]![1]] as [number, number],
            pointingHit: true,
          })),
          timing: { detectMs: 1, saliencyMs: 1, totalMs: 2 },
        },
      };
    },
  };
}

function peakMap(t: { label: string; classId: number; boxes: Detection['box'][]; detectionIndex: number | undefined }, frame: Frame): SaliencyMap {
  const [w, h] = [16, 9];
  const data = new Float32Array(w * h);
  const b = t.boxes[0]!;
  const cx = ((b[0] + b[2]) / 2 / frame.width) * w;
  const cy = ((b[1] + b[3]) / 2 / frame.height) * h;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
  return { label: t.label, classId: t.classId, ...(t.detectionIndex !== undefined ? { detectionIndex: t.detectionIndex } : {}), width: w, height: h, data };
}
