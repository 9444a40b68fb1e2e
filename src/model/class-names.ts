// Class names for models that do not carry COCO's: a classifier's from its metadata, and any model's from a
// `--names` file. A name list must match the model's class count exactly: a shifted list would mislabel every class.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import type { Detector } from './detector.js';

/** A names list as metadata spells it: a list, or a map from index to name (`{0: person, 1: car}`). */
function nameList(names: unknown): string[] | undefined {
  if (Array.isArray(names)) return names.map(String);
  if (names && typeof names === 'object') return Object.entries(names).sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => String(v));
  return undefined;
}

/**
 * A classifier's class names: `names` in a metadata.yaml beside model.json (as ultralytics writes it), else a
 * `names`/`classNames`/`labels` list in model.json's userDefinedMetadata (tensorflowjs_converter --metadata), else
 * class_<i>.
 */
export function classifierClassNames(modelPath: string, count: number): string[] {
  const lists: (() => unknown[])[] = [
    () => [(parseYaml(readFileSync(join(dirname(modelPath), 'metadata.yaml'), 'utf8')) as { names?: unknown } | null)?.names],
    () => {
      const meta = (JSON.parse(readFileSync(modelPath, 'utf8')) as { userDefinedMetadata?: Record<string, unknown> }).userDefinedMetadata ?? {};
      // The converter stores each --metadata file under its own key: look one level down too.
      return [meta, ...Object.values(meta)].flatMap((m) => (m && typeof m === 'object' ? ['names', 'classNames', 'class_names', 'labels'].map((k) => (m as Record<string, unknown>)[k]) : []));
    },
  ];
  for (const read of lists) {
    try {
      for (const candidate of read()) {
        const list = nameList(candidate);
        if (list?.length === count) return list;
      }
    } catch {
      // Unreadable or malformed metadata is not fatal: the graph alone is enough to explain the model.
    }
  }
  return Array.from({ length: count }, (_, i) => `class_${i}`);
}

/** A `--names` file: one name per line (blank lines and `#` comments skipped), or a YAML/JSON list or `names:` map. */
export function readNamesFile(path: string): string[] {
  if (!existsSync(path)) throw new UserError(`--names ${path}: no such file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`--names ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let list: string[] | undefined;
  if (/\.(ya?ml|json)$/i.test(path)) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      throw new UserError(`--names ${path}: not valid YAML/JSON`);
    }
    list = nameList(Array.isArray(doc) ? doc : (doc as { names?: unknown } | null)?.names);
  } else {
    list = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  }
  if (!list?.length) throw new UserError(`--names ${path}: no class names found (one per line, or a YAML/JSON list)`);
  const blank = list.findIndex((n) => !n.trim());
  if (blank >= 0) throw new UserError(`--names ${path}: name ${blank} is empty`);
  const dup = list.find((n, i) => list!.indexOf(n) !== i);
  if (dup !== undefined) throw new UserError(`--names ${path}: "${dup}" is listed twice`);
  return list;
}

/** The detector with its classes renamed (same order, same count); labels, class filters and targets follow. */
export function withClassNames(d: Detector, names: readonly string[], source: string): Detector {
  if (names.length !== d.classNames.length) throw new UserError(`--names ${source}: ${names.length} names for a model with ${d.classNames.length} classes`);
  const old = d.classNames;
  const decode: Detector['decode'] = async (outputs, w, h, minScore, classes) => {
    const found = await d.decode(outputs, w, h, minScore, classes?.map((c) => old[names.indexOf(c)] ?? c));
    return found.map((x) => ({ ...x, label: names[x.classId] ?? x.label }));
  };
  return Object.assign(Object.create(Object.getPrototypeOf(d) as object) as Detector, d, { classNames: names, decode });
}
