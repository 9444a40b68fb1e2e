// What the CAM code and a detector's gradient shortcut share, with no imports (the web app's types reach it
// through the method registry, so it must not pull in the model loader's Node types).

/**
 * What a CAM target is to the model: a weighted sum of score cells, Σ weight · output[cell] (each cell as
 * DetectedObject.scoreIndices' entries; weights default to 1, −1 for a contrastive target's other class).
 */
export interface ScoreCells {
  readonly cells: readonly (readonly number[])[];
  readonly cellWeights?: readonly number[];
}

/** W in Σ_ij W ⊙ ∂S/∂A: the layer's activation (XGrad-CAM) or ones (Grad-CAM). */
export type SumWeighting = 'activation' | 'ones';
