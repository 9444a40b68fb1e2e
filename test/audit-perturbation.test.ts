import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { saliencyPixelOrder } from '../src/audit/order.js';
import { deletionInsertion, perturbationCurves, trapezoidAuc } from '../src/audit/perturbation.js';
import { randomMap } from '../src/audit/rng.js';
import { detectionScorer } from '../src/audit/scorer.js';
import type { ScoreBatch } from '../src/audit/types.js';
import type { Box, Detection } from '../src/types.js';
import { boxMaskMap, toyImage } from './audit-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pixel ordering', () => {
  it('puts the pixels of the most salient cells first, each pixel exactly once', () => {
    // 2x2 map over a 4x4 image: cell 3 (bottom right) highest, then cell 0.
    const order = saliencyPixelOrder({ width: 2, height: 2, data: Float32Array.of(0.5, 0.1, 0.2, 0.9) }, 4, 4);
    expect([...order.slice(0, 4)]).toEqual([10, 11, 14, 15]);
    expect([...order.slice(4, 8)]).toEqual([0, 1, 4, 5]);
    expect(new Set(order).size).toBe(16);
  });

  it('handles maps whose size does not divide the image', () => {
    const order = saliencyPixelOrder(randomMap(3, 5, 1), 10, 7);
    expect(new Set(order).size).toBe(70);
  });
});

describe('trapezoidAuc', () => {
  it('integrates evenly spaced samples over [0, 1]', () => {
    expect(trapezoidAuc([1, 1, 1])).toBeCloseTo(1, 12);
    expect(trapezoidAuc([1, 0])).toBeCloseTo(0.5, 12);
    expect(trapezoidAuc([0, 0.5, 1])).toBeCloseTo(0.5, 12);
  });
});

describe('deletion / insertion on an exactly known case', () => {
  // White 40x40 image; the "model" scores the share of the 20x20 region still white. Region = 1/4 of the image,
  // aligned to the 4-pixel cells of the 10x10 map.
  const W = 40;
  const region: Box = [8, 8, 28, 28];
  const rgb = new Uint8Array(W * W * 3).fill(255);
  const score: ScoreBatch = async (images) =>
    images.map((img) => {
      let white = 0;
      for (let y = region[1]; y < region[3]; y++) for (let x = region[0]; x < region[2]; x++) if (img[(y * W + x) * 3] === 255) white++;
      return white / 400;
    });
  const truth = boxMaskMap(10, 10, region, W, W);

  it('the true map removes the region in the first quarter: deletion AUC = 1/8, insertion AUC = 7/8', async () => {
    const r = await deletionInsertion({ rgb, width: W, height: W }, truth, score, {
      steps: 20,
      deletionBaseline: 'black',
      insertionBaseline: 'black',
    });
    expect(r.reference).toBe(1);
    expect(r.deletion.y.slice(0, 7)).toEqual([1, 0.8, 0.6, 0.4, 0.2, 0, 0]);
    expect(r.deletion.auc).toBeCloseTo(0.125, 10);
    expect(r.insertion.auc).toBeCloseTo(0.875, 10);
    expect(r.insertion.y[20]).toBe(1);
    expect(r.deletion.x).toHaveLength(21);
  });

  it('the inverted map removes the region last: deletion AUC = 7/8', async () => {
    const inverted = { ...truth, data: truth.data.map((v) => 1 - v) };
    const r = await deletionInsertion({ rgb, width: W, height: W }, inverted, score, {
      steps: 20,
      deletionBaseline: 'black',
      insertionBaseline: 'black',
    });
    expect(r.deletion.auc).toBeCloseTo(0.875, 10);
    expect(r.insertion.auc).toBeCloseTo(0.125, 10);
  });

  it('scores shared images once and respects the batch size', async () => {
    const calls: number[] = [];
    const counting: ScoreBatch = async (images, w, h) => {
      calls.push(images.length);
      expect(images.every((i) => i.length === w * h * 3)).toBe(true);
      return score(images, w, h);
    };
    await perturbationCurves({ rgb, width: W, height: W }, [truth, randomMap(10, 10, 3)], counting, {
      steps: 10,
      batchSize: 4,
      deletionBaseline: 'black',
      insertionBaseline: 'black',
    });
    expect(Math.max(...calls)).toBeLessThanOrEqual(4);
    // unperturbed + black, then 2 * (steps - 1) per map
    expect(calls.reduce((a, b) => a + b, 0)).toBe(2 + 2 * 2 * 9);
  });

  it('gives NaN AUCs when the detection is not found on the unperturbed image', async () => {
    const r = await deletionInsertion({ rgb, width: W, height: W }, truth, async (imgs) => imgs.map(() => 0), { steps: 4, deletionBaseline: 'black' });
    expect(r.deletion.auc).toBeNaN();
  });

  it('rejects a scoreBatch that returns the wrong number of scores', async () => {
    await expect(deletionInsertion({ rgb, width: W, height: W }, truth, async () => [1], { steps: 4, deletionBaseline: 'black', insertionBaseline: 'black' })).rejects.toThrow(/scoreBatch/);
  });
});

describe('deletion / insertion on a TF.js toy model (blurred baselines)', () => {
  // score = sigmoid(10 * (mean red inside a fixed 12x12 square / 255 - 0.6)): depends only on that square.
  const S = 32;
  const region: Box = [8, 8, 20, 20];
  const toyModel: ScoreBatch = async (images, w, h) => {
    const scores = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(images.flatMap((i) => [...i])), [images.length, h, w, 3]);
      const red = tf.slice(x, [0, region[1], region[0], 0], [-1, region[3] - region[1], region[2] - region[0], 1]);
      return tf.sigmoid(tf.mul(tf.sub(tf.div(tf.mean(red, [1, 2, 3]), 255), 0.6), 10));
    });
    const out = Array.from(await scores.data());
    scores.dispose();
    return out;
  };
  const image = { rgb: toyImage(S, S, region), width: S, height: S };
  const truth = boxMaskMap(8, 8, region, S, S);

  it('the region mask beats random maps on both curves', async () => {
    const before = tf.memory().numTensors;
    const randoms = [1, 2, 3].map((s) => randomMap(8, 8, s));
    const [t, ...rs] = await perturbationCurves(image, [truth, ...randoms], toyModel, { steps: 20, blurSigma: 4 });
    const meanR = (k: 'deletion' | 'insertion') => rs.reduce((a, r) => a + r[k].auc, 0) / rs.length;
    expect(t!.deletion.auc).toBeLessThan(meanR('deletion') - 0.1);
    expect(t!.insertion.auc).toBeGreaterThan(meanR('insertion') + 0.1);
    expect(t!.deletion.y[0]).toBe(1);
    expect(t!.insertion.y[20]).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('works with the mean-colour deletion baseline too', async () => {
    const [t, r] = await perturbationCurves(image, [truth, randomMap(8, 8, 9)], toyModel, { steps: 10, deletionBaseline: 'mean', blurSigma: 4 });
    expect(t!.deletion.auc).toBeLessThan(r!.deletion.auc);
  });
});

describe('detectionScorer', () => {
  const target: Detection = { label: 'car', classId: 2, score: 0.9, box: [10, 10, 50, 50] };
  it('returns the matched same-class score, or 0 when the object is gone', async () => {
    const lists: Detection[][] = [
      [{ ...target, score: 0.7, box: [12, 10, 52, 50] }],
      [{ ...target, label: 'truck', classId: 7, score: 0.8 }],
      [{ ...target, score: 0.6, box: [40, 40, 90, 90] }],
      [],
    ];
    const scorer = detectionScorer(async () => lists, target);
    const blank = new Uint8Array(3);
    expect(await scorer([blank, blank, blank, blank], 1, 1)).toEqual([0.7, 0, 0, 0]);
  });
});
