// Faithfulness audit of saliency maps: metrics, aggregation and the HTML report.
export * from './types.js';
export { aggregate, methodsOf, spread } from './aggregate.js';
export { attributionToMap, type AttributionMapOptions } from './attribution-map.js';
export { iou, matchedScore } from './box.js';
export { auditDetection, type AuditDetectionInput } from './detection.js';
export { gaussianBlur, integratedGradients, pathPoints, type BatchScore, type IgBaseline, type IgOptions, type IgResult } from './ig.js';
export { baselineImage, blurRgb, prepareAuditImage, resolveBlurSigma } from './image.js';
export { cellOrder, saliencyPixelOrder } from './order.js';
export { deletionInsertion, perturbationCurves, trapezoidAuc, type PerturbationOptions } from './perturbation.js';
export { pointingMetrics, type PointingResult } from './pointing.js';
export { renderAuditReport, toAuditJson } from './report.js';
export { mixSeed, mulberry32, randomMap } from './rng.js';
export { detectionScorer, type DetectBatch } from './scorer.js';
export { addUniformNoise, maxSensitivity, randomExplainSensitivity, type SensitivityOptions } from './sensitivity.js';
export { mapChange, sampleInBox, TemporalCollector, trackStability, type TemporalOptions, type TrackPoint } from './temporal.js';
export { IouTracker, trackDetections } from './tracker.js';
export { WorstKeeper, worstDetections, type WorstCandidate } from './worst.js';
export { writeAuditJson, writeAuditReport, writeFileAtomic } from './write.js';
