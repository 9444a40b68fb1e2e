import * as tf from '@tensorflow/tfjs-core';

/**
 * PolyCAM's local relevance normalisation: divide a high-resolution map by its own content averaged over the
 * cells of the lower-resolution map it is fused with, so each coarse cell's relevance is redistributed, not
 * rescaled. `maps` [K,h,w], `coarse` = [h', w'].
 */
export function localNormalise(maps: tf.Tensor3D, coarse: [number, number]): tf.Tensor3D {
  return tf.tidy(() => {
    const [, h, w] = maps.shape;
    const m4 = tf.expandDims(maps, 3) as tf.Tensor4D;
    // Cell means by area pooling where the sizes divide (bilinear downsampling only samples points, so a
    // cell whose samples are ~0 would blow its other pixels up); bilinear otherwise.
    const divides = h % coarse[0] === 0 && w % coarse[1] === 0;
    const means = divides ? tf.avgPool(m4, [h / coarse[0], w / coarse[1]], [h / coarse[0], w / coarse[1]], 'valid') : tf.image.resizeBilinear(m4, coarse);
    // Each pixel is divided by the mean of the coarse cell it belongs to (nearest), so relevance is only
    // redistributed inside a cell.
    const factor = divides ? tf.image.resizeNearestNeighbor(means, [h, w]) : tf.image.resizeBilinear(means, [h, w]);
    // A floor relative to each map's peak keeps near-empty cells from being amplified into hot spots.
    const floor = tf.mul(tf.max(m4, [1, 2, 3], true), 1e-2);
    return tf.squeeze(tf.div(m4, tf.maximum(factor, tf.maximum(floor, 1e-12))), [3]) as tf.Tensor3D;
  });
}

/**
 * Fuse per-layer maps ordered from low to high resolution: each finer map, locally normalised, multiplies the
 * upsampled fused map so far (PolyCAM's recursion). Returns [K,h,w] at the finest resolution.
 */
export function fuseLayers(mapsLowToHigh: tf.Tensor3D[]): tf.Tensor3D {
  return tf.tidy(() => {
    let fused = mapsLowToHigh[0]!;
    for (const next of mapsLowToHigh.slice(1)) {
      const [, h, w] = next.shape;
      const normed = localNormalise(next, [fused.shape[1], fused.shape[2]]);
      const up = tf.squeeze(tf.image.resizeBilinear(tf.expandDims(fused, 3) as tf.Tensor4D, [h, w]), [3]);
      fused = tf.relu(tf.mul(normed, up)) as tf.Tensor3D;
    }
    return fused;
  });
}
