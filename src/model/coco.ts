/** COCO-80 class names in the detectors' 0-based output order. */
export const COCO_CLASSES = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear',
  'hair drier', 'toothbrush',
] as const;

/**
 * COCO's own category ids for the 80 classes above, in the same order: the 2014/2017 annotation files number
 * 91 categories and leave 11 unused (12 street sign, 26 hat, 29 shoe, 30 eye glasses, 45 plate, 66 mirror,
 * 68 window, 69 desk, 71 door, 83 blender, 91 hair brush), so ids equal index + 1 only up to "fire hydrant".
 */
export const COCO_CATEGORY_IDS = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
  35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
  64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
] as const;

/** COCO's supercategories, as runs over the 80 classes above: [first index of the run, name]. */
const COCO_SUPERCATEGORY_RUNS: [number, string][] = [
  [0, 'person'], [1, 'vehicle'], [9, 'outdoor'], [14, 'animal'], [24, 'accessory'], [29, 'sports'], [39, 'kitchen'],
  [46, 'food'], [56, 'furniture'], [62, 'electronic'], [68, 'appliance'], [73, 'indoor'],
];

/** The supercategory of COCO-80 class `index`. */
export function cocoSupercategory(index: number): string {
  let name = '';
  for (const [start, s] of COCO_SUPERCATEGORY_RUNS) if (index >= start) name = s;
  return name;
}
