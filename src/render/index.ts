// Public surface of the rendering layer.

export { renderFrame } from './overlay.js';
export { encodeImage, renderToPng, saveImage, imageFormatOf, type ImageFormat } from './encode.js';
export { colorize, colormapLut, colorAt, OVERLAY_GAMMA, type Lut } from './colormap.js';
export { classColor, type ClassColor } from './class-colors.js';
export { combineMax } from './combine.js';
export { gridLayout, type GridLayout } from './grid.js';
export { legendRect } from './legend.js';
export { labelPlate, boxStyleFor, detectionText } from './boxes.js';
