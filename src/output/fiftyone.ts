// `export … --format fiftyone <dir>`: a folder FiftyOne imports as a COCO detection dataset, plus one
// heatmap PNG per class and frame for fo.Heatmap. Layout (FiftyOne's COCODetectionDataset default layout
// is data/ + labels.json):
//   data/frame_000000.jpg                 the source frame
//   labels.json                           COCO detection JSON: images, annotations (bbox x,y,w,h + score), categories
//   heatmaps/<class>/frame_000000.png     8-bit map, frame size (fo.Heatmap map_path, range [0, 255])
//   saliency.json                         per frame: file name, frame index, time, log time, its heatmaps
//   README.md                             the Python lines that load it all
// The folder is built as an atomic target (video/atomic.ts: a new folder inside a private mkdtemp folder beside
// the target) and renamed into place on finish.
import { existsSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../errors.js';
import type { RenderedFrame } from '../types.js';
import { asWriteError, checkOutputPath, finishAtomic, nameTaken, openAtomic } from '../video/atomic.js';
import type { SourceInfo } from '../video/probe.js';
import { mapName, mapToPng } from './map-image.js';
import { datasetCategories } from './categories.js';
import { frameLogTime, type FrameOutput, type OutputFormatRow } from './output.js';

export const FIFTYONE_FILES = { data: 'data', labels: 'labels.json', heatmaps: 'heatmaps', saliency: 'saliency.json', readme: 'README.md' } as const;

interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  frame: number;
  time: number;
  log_time_ns: string;
}

interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0;
  score: number;
}

const taken = (dir: string): UserError => new UserError(`--output ${dir} already exists; give a new folder name for the FiftyOne dataset`);

/** The output table's row (index.ts). */
export const fiftyOneOutput: OutputFormatRow = {
  title: 'a FiftyOne/COCO dataset',
  help: 'dataset folder (--format fiftyone)',
  placeholder: 'dir',
  async check(dir) {
    if (existsSync(dir)) throw taken(dir);
    await checkOutputPath(dir);
  },
  open: (dir, ctx) => openFiftyOneOutput(dir, ctx.info, ctx.classNames),
};

/** `classNames`: every class of the model, all listed as categories (COCO's ids for COCO's classes). */
export async function openFiftyOneOutput(dir: string, info: SourceInfo, classNames: readonly string[]): Promise<FrameOutput> {
  const target = resolve(dir);
  // lstat, not exists: a dangling symlink is a name in the way too.
  if (await nameTaken(target)) throw taken(dir);
  const atomic = await openAtomic(target, 'folder', { shown: dir });
  const temp = atomic.temp;
  try {
    await mkdir(join(temp, FIFTYONE_FILES.data));
    await mkdir(join(temp, FIFTYONE_FILES.heatmaps));
  } catch (err) {
    await atomic.discard();
    throw asWriteError(dir, err);
  }
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  const { categories, idOf } = datasetCategories(classNames);
  const frames: { file_name: string; frame: number; time: number; log_time_ns: string; heatmaps: Record<string, string> }[] = [];
  const heatmapDirs = new Set<string>();
  let state: 'open' | 'finished' | 'aborted' = 'open';

  return {
    async write(r: RenderedFrame) {
      if (state !== 'open') throw new Error(`FiftyOne output ${dir} is already ${state}`);
      const f = r.explained.frame;
      const stem = `frame_${String(f.index).padStart(6, '0')}`;
      const fileName = `${stem}.jpg`;
      const logTime = frameLogTime(info, f.time);
      try {
        const jpeg = await sharp(Buffer.from(f.rgb.buffer, f.rgb.byteOffset, f.rgb.byteLength), { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
        await writeFile(join(temp, FIFTYONE_FILES.data, fileName), jpeg);
        const heatmaps: Record<string, string> = {};
        for (const map of r.explained.maps) {
          const name = mapName(map);
          if (!heatmapDirs.has(name)) {
            await mkdir(join(temp, FIFTYONE_FILES.heatmaps, name));
            heatmapDirs.add(name);
          }
          const rel = `${FIFTYONE_FILES.heatmaps}/${name}/${stem}.png`;
          await writeFile(join(temp, rel), await mapToPng(map, f.width, f.height));
          heatmaps[name] = rel;
        }
        const imageId = images.length + 1;
        images.push({ id: imageId, file_name: fileName, width: f.width, height: f.height, frame: f.index, time: f.time, log_time_ns: logTime.toString() });
        for (const d of r.explained.detections) {
          const [x1, y1, x2, y2] = d.box;
          const bbox: [number, number, number, number] = [round2(x1), round2(y1), round2(x2 - x1), round2(y2 - y1)];
          annotations.push({ id: annotations.length + 1, image_id: imageId, category_id: idOf(d.classId), bbox, area: round2(bbox[2] * bbox[3]), iscrowd: 0, score: round4(d.score) });
        }
        frames.push({ file_name: fileName, frame: f.index, time: f.time, log_time_ns: logTime.toString(), heatmaps });
      } catch (err) {
        throw asWriteError(dir, err);
      }
    },
    async finish() {
      if (state !== 'open') throw new Error(`FiftyOne output ${dir} is already ${state}`);
      const last = async (): Promise<void> => {
        const source = info.recording ? { path: info.recording.path, topic: info.recording.topic } : { path: info.input };
        const coco = {
          info: { description: `saliencam detections of ${source.path}${info.recording ? ` (${info.recording.topic})` : ''}`, version: '1.0', year: new Date().getUTCFullYear(), date_created: new Date().toISOString() },
          licenses: [],
          categories,
          images,
          annotations,
        };
        await writeSynced(join(temp, FIFTYONE_FILES.labels), `${JSON.stringify(coco)}\n`);
        await writeSynced(join(temp, FIFTYONE_FILES.saliency), `${JSON.stringify({ version: 1, source, heatmap_range: [0, 255], frames }, null, 1)}\n`);
        await writeSynced(join(temp, FIFTYONE_FILES.readme), readme(basename(target)));
      };
      await finishAtomic(atomic, last, { shown: dir, aborted: () => void (state = 'aborted') });
      state = 'finished';
      return { path: target };
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await atomic.discard();
    },
  };
}

/** A file inside the private temp folder, fsynced so the renamed dataset is whole after a crash. */
async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const round2 = (v: number): number => Math.round(v * 100) / 100;
const round4 = (v: number): number => Math.round(v * 10000) / 10000;

/** The import snippet, also in the project README ("Recordings (MCAP) and FiftyOne"). */
export function fiftyOneSnippet(dir: string): string {
  return `import json, os
import fiftyone as fo

d = "${dir}"
ds = fo.Dataset.from_dir(dataset_dir=d, dataset_type=fo.types.COCODetectionDataset,
                         label_field="detections", label_types="detections")
frames = {f["file_name"]: f for f in json.load(open(os.path.join(d, "saliency.json")))["frames"]}
for s in ds:
    f = frames[os.path.basename(s.filepath)]
    s["frame"], s["time"] = f["frame"], f["time"]
    for name, path in f["heatmaps"].items():
        s[f"saliency_{name}"] = fo.Heatmap(map_path=os.path.join(d, path), range=[0, 255])
    s.save()
session = fo.launch_app(ds)
`;
}

function readme(name: string): string {
  return `# ${name}: saliencam detections and saliency maps

A COCO detection dataset (FiftyOne's COCODetectionDataset layout: \`data/\` + \`labels.json\`) with one
saliency heatmap per class and frame in \`heatmaps/<class>/\` (8-bit PNG, frame size, 255 = the map's maximum)
and \`saliency.json\` (frame index, time, source log time and heatmaps of each image). Load it with:

\`\`\`python
${fiftyOneSnippet('.')}\`\`\`
`;
}
