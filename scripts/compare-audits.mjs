// node scripts/compare-audits.mjs a.json b.json — how two audits of the same frames (e.g. --steps 20 and
// --steps 10) differ: per method and metric, the mean of each run with its 95 % interval, the largest and the
// mean per-detection difference, and whether the methods rank the same. Detections are paired by frame and
// detection index. Used for the README's choice of the default steps.
import { readFileSync } from 'node:fs';

const [fa, fb] = process.argv.slice(2);
if (!fa || !fb) {
  console.error('usage: node scripts/compare-audits.mjs a.json b.json');
  process.exit(2);
}
const [a, b] = [fa, fb].map((f) => JSON.parse(readFileSync(f, 'utf8')));
const key = (d) => `${d.frame}/${d.detectionIndex}`;
const inB = new Map(b.detections.map((d) => [key(d), d]));
const pairs = a.detections.flatMap((d) => (inB.has(key(d)) ? [[d, inB.get(key(d))]] : []));
console.log(`${fa}: steps ${a.settings.steps}; ${fb}: steps ${b.settings.steps}; ${pairs.length} detections paired`);
const metrics = ['deletionAuc', 'insertionAuc'];
for (const metric of metrics) {
  const rank = (run) => Object.entries(run.summary.overall).sort((x, y) => (metric === 'deletionAuc' ? 1 : -1) * (x[1][metric].mean - y[1][metric].mean)).map(([m]) => m);
  for (const m of a.methods) {
    const diffs = pairs.map(([x, y]) => Math.abs((x.methods[m]?.[metric] ?? NaN) - (y.methods[m]?.[metric] ?? NaN))).filter(Number.isFinite);
    const sa = a.summary.overall[m][metric];
    const sb = b.summary.overall[m][metric];
    const f = (s) => `${s.mean.toFixed(3)} [${s.ci95[0].toFixed(3)}, ${s.ci95[1].toFixed(3)}]`;
    const meanDiff = diffs.reduce((s, v) => s + v, 0) / (diffs.length || 1);
    console.log(`${metric.padEnd(12)} ${m.padEnd(10)} ${f(sa)}  vs  ${f(sb)}   |Δ| per detection mean ${meanDiff.toFixed(4)} max ${Math.max(...diffs).toFixed(4)}; Δ of means ${(sb.mean - sa.mean).toFixed(4)}, interval width ${(sa.ci95[1] - sa.ci95[0]).toFixed(3)}`);
  }
  const ra = rank(a).join(' < ');
  const rb = rank(b).join(' < ');
  console.log(`${metric} ranking (best first): ${ra}${ra === rb ? '  (the same in both)' : `  vs  ${rb}`}`);
}
// The audit's conclusions: which paired comparisons are significant (interval excludes 0) in each run.
const verdicts = (run) => new Map(run.summary.comparisons.filter((c) => metrics.includes(c.metric)).map((c) => [`${c.metric} ${c.a} vs ${c.b}`, c.significant ? (c.aBetter ? 'a better' : 'b better') : 'n.s.']));
const [va, vb] = [verdicts(a), verdicts(b)];
const differ = [...va].filter(([k, v]) => vb.get(k) !== v);
console.log(`paired comparisons (deletion, insertion): ${va.size}; significant in ${fa}: ${[...va.values()].filter((v) => v !== 'n.s.').length}, in ${fb}: ${[...vb.values()].filter((v) => v !== 'n.s.').length}; verdicts that differ: ${differ.length ? differ.map(([k, v]) => `${k} (${v} → ${vb.get(k)})`).join('; ') : 'none'}`);
