// The model-parameter randomisation test on a toy model whose answer is known: a "head" of channel weights on
// fixed features. A map made with the head's weights (XGrad-CAM-like) must change when the head is randomised;
// a map made from the features alone (Eigen-CAM-like) cannot, and must be reported as failing.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/audit/rng.js';
import { layersAfter, sanityCascade, spearman } from '../src/audit/sanity.js';
import type { GraphNode } from '../src/model/graph.js';

describe('spearman', () => {
  it('is 1 for a monotone relation, -1 reversed, and uses average ranks for ties', () => {
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [9, 4, 1, 0])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});

describe('layersAfter', () => {
  // input -> conv0 (w0) -> cam -> conv1 (w1) -> bias (b1) -> out; a side branch conv2 (w2) from input to out.
  const nodes: GraphNode[] = [
    { name: 'x', op: 'Placeholder' },
    { name: 'w0', op: 'Const' }, { name: 'w1', op: 'Const' }, { name: 'b1', op: 'Const' }, { name: 'w2', op: 'Const' },
    { name: 'conv0', op: 'Conv2D', input: ['x', 'w0'] },
    { name: 'cam', op: 'Relu', input: ['conv0'] },
    { name: 'conv1', op: 'Conv2D', input: ['cam', 'w1'] },
    { name: 'bias', op: 'BiasAdd', input: ['conv1', 'b1'] },
    { name: 'conv2', op: 'Conv2D', input: ['x', 'w2'] },
    { name: 'out', op: 'AddV2', input: ['bias', 'conv2'] },
  ];
  it('lists the weighted layers between the CAM layer and the output, output first, not the side branch', () => {
    expect(layersAfter(nodes, 'cam', 'out')).toEqual([
      { name: 'bias', weights: ['b1'] },
      { name: 'conv1', weights: ['w1'] },
    ]);
  });
});

describe('sanityCascade on a toy model', () => {
  const HW = 64;
  const C = 16;
  const rand = mulberry32(3);
  const A = Array.from({ length: C }, () => Float32Array.from({ length: HW }, () => rand()));
  const trained = [Float32Array.from({ length: C }, () => rand() - 0.5), Float32Array.from({ length: C }, () => rand() - 0.5)];
  const combine = (w: Float32Array) => Float32Array.from({ length: HW }, (_, p) => A.reduce((s, a, c) => s + w[c]! * a[p]!, 0));
  // Two layers after the CAM layer: the cascade randomises the head's weights (layer 1), then a bias (no effect).
  const mapsAt = async (k: number) => {
    const r = mulberry32(100 + k);
    const heads = k > 0 ? trained.map(() => Float32Array.from({ length: C }, () => r() - 0.5)) : trained;
    return {
      weighted: heads.map(combine),
      featuresOnly: heads.map(() => A[0]!),
    };
  };

  it('the map that uses the head fails to stay the same (passes); the map of the features alone fails', async () => {
    const r = await sanityCascade(['head', 'bias'], [{ label: 'car' }, { label: 'truck' }], mapsAt);
    expect(r.methods.featuresOnly!.similarity).toBe(1);
    expect(r.methods.featuresOnly!.passed).toBe(false);
    expect(r.methods.weighted!.similarity).toBeLessThan(0.5);
    expect(r.methods.weighted!.passed).toBe(true);
    expect(Object.keys(r.methods.weighted!.perClass)).toEqual(['car', 'truck']);
    expect(r.methods.weighted!.perLayer.map((l) => l.layer)).toEqual(['head', 'bias']);
    expect(r.methods.weighted!.detections).toBe(2);
  });
});
