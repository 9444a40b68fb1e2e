#!/usr/bin/env node
// Renders a PNG summary of an MCAP file (the README's picture of an exported recording): its channels with
// schema, encoding, message count and time span, then the first message of each image topic.
// Usage: node scripts/mcap-picture.mjs drive.saliency.mcap docs/mcap-export.png   (after `npm run build`)
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp from 'sharp';
import { McapIndexedReader } from '@mcap/core';
import { loadDecompressHandlers, protobufFromBinaryDescriptor } from '@mcap/support';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: node scripts/mcap-picture.mjs <file.mcap> <picture.png>\n');
  process.exit(2);
}
const data = await readFile(input);
const reader = await McapIndexedReader.Initialize({
  readable: { size: async () => BigInt(data.length), read: async (o, n) => data.subarray(Number(o), Number(o + n)) },
  decompressHandlers: await loadDecompressHandlers(),
});
const channels = [...reader.channelsById.values()].sort((a, b) => a.topic.localeCompare(b.topic));
const span = new Map();
const firstImage = new Map();
for await (const m of reader.readMessages()) {
  const s = span.get(m.channelId) ?? { first: m.logTime, last: m.logTime };
  if (m.logTime < s.first) s.first = m.logTime;
  if (m.logTime > s.last) s.last = m.logTime;
  span.set(m.channelId, s);
  const ch = reader.channelsById.get(m.channelId);
  const schema = reader.schemasById.get(ch.schemaId);
  if (schema?.name === 'foxglove.CompressedImage' && ch.messageEncoding === 'protobuf' && !firstImage.has(ch.topic)) {
    const type = protobufFromBinaryDescriptor(schema.data).lookupType(schema.name);
    firstImage.set(ch.topic, type.decode(m.data).data);
  }
}
const esc = (s) => String(s).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);
const secs = (ns) => (Number(ns) / 1e9).toFixed(3);
const W = 1400;
const rowH = 26;
const rows = channels.map((ch) => {
  const schema = reader.schemasById.get(ch.schemaId);
  const s = span.get(ch.id);
  return [ch.topic, schema?.name ?? '', ch.messageEncoding, String(reader.statistics?.channelMessageCounts.get(ch.id) ?? 0n), s ? `${secs(s.first)} … ${secs(s.last)}` : ''];
});
const cols = [24, 330, 640, 760, 880];
const heads = ['topic', 'schema', 'encoding', 'messages', 'log time (s since epoch), first … last'];
const chunks = reader.chunkIndexes;
const tableH = 110 + rowH * (rows.length + 1);
const thumbW = 440;
const topics = [...firstImage.keys()].slice(0, 6);
const metas = await Promise.all(topics.map((t) => sharp(firstImage.get(t)).metadata()));
const thumbH = Math.round((thumbW * (metas[0]?.height ?? 9)) / (metas[0]?.width ?? 16));
const gridRows = Math.ceil(topics.length / 3);
const H = tableH + 40 + gridRows * (thumbH + 40);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="100%" height="100%" fill="#16181d"/>
<text x="24" y="40" font-family="DejaVu Sans, sans-serif" font-size="24" fill="#fff" font-weight="bold">${esc(basename(input))}</text>
<text x="24" y="70" font-family="DejaVu Sans, sans-serif" font-size="15" fill="#aab">MCAP, profile "${esc(reader.header.profile)}", library ${esc(reader.header.library)}; ${channels.length} channels, ${reader.statistics?.messageCount ?? 0n} messages, ${chunks.length} chunks (${esc([...new Set(chunks.map((c) => c.compression || 'none'))].join(', '))}), ${(data.length / 1024).toFixed(0)} KiB</text>
${heads.map((h, i) => `<text x="${cols[i]}" y="${110}" font-family="DejaVu Sans, sans-serif" font-size="15" fill="#8cf" font-weight="bold">${esc(h)}</text>`).join('\n')}
${rows.map((r, j) => r.map((c, i) => `<text x="${cols[i]}" y="${110 + rowH * (j + 1)}" font-family="DejaVu Sans Mono, monospace" font-size="14" fill="#eee">${esc(c)}</text>`).join('')).join('\n')}
${topics.map((t, i) => `<text x="${24 + (i % 3) * (thumbW + 16)}" y="${tableH + 30 + Math.floor(i / 3) * (thumbH + 40)}" font-family="DejaVu Sans Mono, monospace" font-size="14" fill="#8cf">${esc(t)} (first message)</text>`).join('\n')}
</svg>`;
const layers = await Promise.all(
  topics.map(async (t, i) => ({
    input: await sharp(firstImage.get(t)).resize(thumbW, thumbH, { fit: 'fill' }).png().toBuffer(),
    left: 24 + (i % 3) * (thumbW + 16),
    top: tableH + 38 + Math.floor(i / 3) * (thumbH + 40),
  })),
);
await sharp(Buffer.from(svg)).composite(layers).png().toFile(output);
process.stdout.write(`wrote ${output}\n`);
