// Compares two `saliencam explain` results: node scripts/compare-explain.mjs <a.json> <b.json> [a-maps.json
// b-maps.json] [--tol 1e-4]. Detections must match (labels and classes exactly, scores and boxes within
// rounding), saliency statistics and map values within --tol; timings are ignored. Prints one line per
// finding and exits 1 on a mismatch. Plain JavaScript with no dependencies: the GPU check runs it on the
// offline kit's own Node (scripts/gpu-check.sh), and test/kit.test.ts imports compareExplain.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Differences between records `a` and `b` (and their maps, when given); empty when they agree. */
export function compareExplain(a, b, mapsA, mapsB, tol = 1e-4) {
  const problems = [];
  const close = (x, y, t, what) => {
    if (!(Math.abs(x - y) <= t)) problems.push(`${what}: ${x} vs ${y}`);
  };
  for (const key of ['source', 'width', 'height', 'model', 'method']) if (a[key] !== b[key]) problems.push(`${key}: ${a[key]} vs ${b[key]}`);
  if (a.detections.length !== b.detections.length) problems.push(`detections: ${a.detections.length} vs ${b.detections.length}`);
  else
    a.detections.forEach((d, i) => {
      const e = b.detections[i];
      if (d.label !== e.label || d.classId !== e.classId) problems.push(`detection ${i}: ${d.label} vs ${e.label}`);
      // Records round scores to 4 decimals and boxes to 0.1 px: allow one unit of rounding.
      close(d.score, e.score, 1e-4 + tol, `detection ${i} score`);
      d.box.forEach((v, j) => close(v, e.box[j], 0.1 + tol, `detection ${i} box[${j}]`));
    });
  if (a.saliency.length !== b.saliency.length) problems.push(`saliency: ${a.saliency.length} vs ${b.saliency.length} maps`);
  else
    a.saliency.forEach((s, i) => {
      const t = b.saliency[i];
      if (s.label !== t.label || s.pointingHit !== t.pointingHit) problems.push(`saliency ${i}: ${s.label}/${s.pointingHit} vs ${t.label}/${t.pointingHit}`);
      close(s.energyInBoxes, t.energyInBoxes, 1e-4 + tol, `saliency ${i} energyInBoxes`);
      close(s.areaInBoxes, t.areaInBoxes, 1e-4 + tol, `saliency ${i} areaInBoxes`);
    });
  let maxMapDiff;
  if (mapsA && mapsB) {
    maxMapDiff = 0;
    if (mapsA.maps.length !== mapsB.maps.length) problems.push(`maps: ${mapsA.maps.length} vs ${mapsB.maps.length}`);
    else
      mapsA.maps.forEach((m, i) => {
        const n = mapsB.maps[i];
        if (m.label !== n.label || m.width !== n.width || m.height !== n.height) return problems.push(`map ${i}: ${m.label} ${m.width}x${m.height} vs ${n.label} ${n.width}x${n.height}`);
        let worst = 0;
        for (let k = 0; k < m.data.length; k++) worst = Math.max(worst, Math.abs(m.data[k] - n.data[k]));
        maxMapDiff = Math.max(maxMapDiff, worst);
        if (!(worst <= tol)) problems.push(`map ${i} (${m.label}): max difference ${worst.toExponential(2)} > ${tol}`);
      });
  }
  return { problems, maxMapDiff };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--tol');
  const tol = t >= 0 ? Number(args.splice(t, 2)[1]) : 1e-4;
  if (![2, 4].includes(args.length) || !Number.isFinite(tol)) {
    process.stderr.write('usage: compare-explain.mjs a.json b.json [a-maps.json b-maps.json] [--tol 1e-4]\n');
    process.exit(2);
  }
  const [a, b, ma, mb] = args.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const { problems, maxMapDiff } = compareExplain(a, b, ma, mb, tol);
  const summary = `${a.detections.length} detections, ${a.saliency.length} maps${maxMapDiff !== undefined ? `, max map difference ${maxMapDiff.toExponential(2)}` : ''} (tolerance ${tol})`;
  if (problems.length) {
    process.stdout.write(`MISMATCH: ${summary}\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`match: ${summary}\n`);
}
