// saliencam as a library: `import { explainImage, createExplainer } from 'saliencam'`. The public surface is
// this file's exports; everything else in dist/ is internal and may change.
export { createExplainer, explainImage } from './api/explain.js';
export type { Explainer, Explanation, ExplainerOptions, ExplainSettings, ImageInput, ModelOptions, RgbImage } from './api/explain.js';
export type { ExplanationMap } from './api/maps.js';
export { CAM_METHODS } from './settings.js';
export type { CamMethodName, Detection, ExplainRecord, SaliencyStats, Box } from './types.js';
export { UserError, EXIT } from './errors.js';
