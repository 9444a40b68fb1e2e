// The categories of a COCO-format export: every class of the model, numbered as COCO numbers them when the model's
// classes are COCO's 80 (so the file scores against COCO's own ground truth by id), else index + 1.
import { COCO_CATEGORY_IDS, COCO_CLASSES, cocoSupercategory } from '../model/coco.js';

export interface Category {
  id: number;
  name: string;
  supercategory: string;
}

export function datasetCategories(classNames: readonly string[]): { categories: Category[]; idOf(classId: number): number } {
  const coco = classNames.length === COCO_CLASSES.length && classNames.every((n, i) => n === COCO_CLASSES[i]);
  const idOf = (classId: number): number => (coco ? COCO_CATEGORY_IDS[classId]! : classId + 1);
  return { categories: classNames.map((name, i) => ({ id: idOf(i), name, supercategory: coco ? cocoSupercategory(i) : '' })), idOf };
}
