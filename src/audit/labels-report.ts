// The report's "Against the labels" section (`audit --labels`) and its JSON form (the same minus thumbnails).
import { escapeHtml, jpegDataUri } from './html.js';
import type { LabelsReport, Thumb } from './labels-types.js';
import type { Box } from '../types.js';

/** The labels section without its JPEGs (NaN is written as null by JSON.stringify). */
export function labelsJson(l: LabelsReport): LabelsReport {
  const strip = <T extends Thumb>({ jpeg: _jpeg, ...rest }: T): Omit<T, 'jpeg'> => rest;
  return {
    ...l,
    misses: l.misses.map(strip),
    confusions: l.confusions.map((c) => ({ ...c, maps: c.maps.map(strip) })),
    falsePositives: l.falsePositives.map(strip),
  };
}

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const box = (b: Box): string => `[${b.map((v) => Math.round(v)).join(', ')}]`;

function figure(jpeg: Uint8Array | undefined, caption: string): string {
  const c = escapeHtml(caption);
  return jpeg ? `<figure><img alt="${c}" loading="lazy" src="${jpegDataUri(jpeg)}"><figcaption>${c}</figcaption></figure>` : '';
}

function table(head: string[], rows: string[][]): string {
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr><th scope="row">${r[0]}</th>${r.slice(1).map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('\n')}</tbody></table></div>`;
}

export function labelsSection(l: LabelsReport, methods: readonly string[]): string {
  const withMaps = methods.filter((m) => l.perClass.some((r) => r.methods[m]));
  const perClass = table(
    ['class', 'labelled', 'detections', `recall @${l.matchIou}`, `precision @${l.matchIou}`, 'misses', 'confusions', 'false positives', ...withMaps.flatMap((m) => [`${escapeHtml(m)} pointing ↑`, `${escapeHtml(m)} energy in box ↑`])],
    l.perClass.map((r) => [
      escapeHtml(r.label),
      String(r.labelled),
      String(r.detections),
      num(r.recall, 2),
      num(r.precision, 2),
      String(r.misses),
      String(r.confusions),
      String(r.falsePositives),
      ...withMaps.flatMap((m) => {
        const s = r.methods[m];
        return s ? [`${num(s.pointingHitRate, 2)} <span class="n">n=${s.n}</span>`, num(s.energyInBox, 3)] : ['—', '—'];
      }),
    ]),
  );
  const misses = l.misses.length
    ? `${table(
        ['class', 'frame', 'labelled box', 'best score', 'map', 'pointing', 'energy in box'],
        l.misses.map((m) => [escapeHtml(m.label), String(m.frame), box(m.box), num(m.bestScore, 3), escapeHtml(m.method), m.pointingHit ? 'hit' : 'miss', num(m.energyInBox, 3)]),
      )}
<div class="gallery misses">${l.misses.map((m) => figure(m.jpeg, `why not ${m.label} · frame ${m.frame} · best score ${num(m.bestScore, 3)} · ${m.method} · energy in box ${num(m.energyInBox, 3)}`)).join('\n')}</div>`
    : '<p>No labelled box was missed.</p>';
  const confusions = l.confusions.length
    ? `${table(
        ['labelled', 'detected', 'frame', 'score', 'IoU', 'maps (energy in labelled box)'],
        l.confusions.map((c) => [escapeHtml(c.label), escapeHtml(c.detected), String(c.frame), num(c.score, 2), num(c.iou, 2), escapeHtml(c.maps.map((m) => `${m.method} ${num(m.energyInBox, 3)}`).join(', ') || '—')]),
      )}
<div class="gallery confusions">${l.confusions
        .flatMap((c) => c.maps.map((m) => figure(m.jpeg, `why ${c.detected} rather than ${c.label} · frame ${c.frame} · ${m.method}`)))
        .join('\n')}</div>`
    : '<p>No labelled box was taken for another class.</p>';
  const fps = l.falsePositives.length
    ? `${table(
        ['class', 'frame', 'score', 'box'],
        l.falsePositives.map((f) => [escapeHtml(f.label), String(f.frame), num(f.score, 2), box(f.box)]),
      )}
<div class="gallery false-positives">${l.falsePositives.map((f) => figure(f.jpeg, `${f.label} ${num(f.score, 2)} · frame ${f.frame}${f.method ? ` · ${f.method}` : ''}`)).join('\n')}</div>`
    : '<p>No false positives.</p>';
  const notSampled = l.framesNotSampled.length
    ? `<p class="note">${l.framesNotSampled.length} labelled frame(s) were not sampled (${escapeHtml(l.framesNotSampled.slice(0, 12).join(', '))}${l.framesNotSampled.length > 12 ? ', …' : ''}): change --every / --start / --duration / --max-frames to include them.</p>`
    : '';
  return `<p class="meta">${escapeHtml(l.file)}: ${l.framesLabelled} labelled frame(s) audited; a detection matches a labelled box of its class at IoU ≥ ${l.matchIou}.</p>
${notSampled}<h3>Per class</h3>
${perClass}
<p class="note">Pointing and energy in box score each matched detection's map against its <em>labelled</em> box (the protocol of ODAM and G-CAME), not against the detector's box.</p>
<h3 id="label-misses">Misses</h3>
<p class="note">Each labelled box no detection of its class matched, with the class's best score there (before the threshold) and its region ("why not") map. A low best score with heat on the object: the detector sees it, not enough. No heat: it does not look there.</p>
${misses}
<h3 id="label-confusions">Confusions</h3>
<p class="note">A detection of another class on a labelled box; its contrastive map shows what speaks for the detected class rather than the labelled one.</p>
${confusions}
<h3 id="label-false-positives">False positives</h3>
${fps}`;
}
