// Reading an MCAP file: its channels and the messages of one channel, in log-time order.
// An indexed file (footer + summary) is read through the index; a file without one (a recording cut off
// mid-write, or written without a summary) is streamed record by record, and whatever whole chunks it holds
// are read. Chunk compression (zstd, lz4, bz2) is undone by @mcap/support's decompressors.
// Nothing the file says about sizes is trusted: every read is bounded by the file's size and MAX_RECORD_BYTES
// before a byte is allocated, and a chunk is inflated only when its declared size is under the same cap (the
// decompressors allocate the declared size up front).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { McapIndexedReader, McapStreamReader, type DecompressHandlers, type McapTypes } from '@mcap/core';
import { loadDecompressHandlers } from '@mcap/support';
import { UserError, oneLine } from '../errors.js';

export interface RecordingChannel {
  id: number;
  topic: string;
  messageEncoding: string;
  schemaName: string;
  schemaEncoding: string;
  schemaData: Uint8Array;
  /** Messages on the channel (from the summary, or counted while scanning an unindexed file). */
  messageCount: number;
}

export interface RecordingMessage {
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

export interface Recording {
  readonly path: string;
  readonly channels: RecordingChannel[];
  /** False when the file has no usable index (truncated or written without a summary). */
  readonly indexed: boolean;
  /** Why the file is incomplete, if it is (set after a scan or a read that hit the end early). */
  readonly problem: string | undefined;
  /** Messages of one channel in log-time order; a broken file ends early and sets `problem`. */
  messages(channelId: number): AsyncGenerator<RecordingMessage>;
  /** Log times of the channel's first and last message, or undefined when it has none. */
  timeRange(channelId: number): Promise<{ first: bigint; last: bigint } | undefined>;
  close(): Promise<void>;
}

/** The largest record, read or inflated chunk accepted (real recorders write chunks of a few MiB). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]); // \x89MCAP0\r\n
const MIB = (n: number | bigint): string => `${(Number(n) / 2 ** 20).toFixed(0)} MiB`;

let handlers: Promise<DecompressHandlers> | undefined;
function decompressHandlers(): Promise<DecompressHandlers> {
  handlers ??= loadDecompressHandlers().then(guarded);
  return handlers;
}

/** The decompressors, refusing a declared size over the cap and an output that is not the declared size. */
function guarded(raw: DecompressHandlers): DecompressHandlers {
  const out: DecompressHandlers = {};
  for (const [name, inflate] of Object.entries(raw)) {
    out[name] = (buffer, size) => {
      if (size > BigInt(MAX_RECORD_BYTES)) throw new Error(`a ${name} chunk claims ${MIB(size)} uncompressed (limit ${MIB(MAX_RECORD_BYTES)})`);
      const data = inflate(buffer, size);
      if (BigInt(data.byteLength) !== size) throw new Error(`a ${name} chunk inflates to ${data.byteLength} bytes, not the ${size} it declares`);
      return data;
    };
  }
  return out;
}

const READ_BLOCK = 1 << 20;

/** What went wrong reading, in the user's terms (the library's messages name its internals). */
function fault(err: unknown): string {
  const msg = oneLine(err);
  const compression = /Unsupported compression (\S*)/.exec(msg);
  if (compression) return `chunk compression "${compression[1]}" is not supported (zstd, lz4 and bz2 are)`;
  return `corrupt data (${msg.replace(/ \[library=.*\]$/, '')})`;
}

export async function openRecording(path: string): Promise<Recording> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new UserError(`${path} is a folder, not an MCAP recording`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? 'error'})`);
  }
  if (size === 0) throw new UserError(`${path} is empty (0 bytes)`);
  const fh = await open(path, 'r');
  try {
    const magic = Buffer.alloc(8);
    const { bytesRead } = await fh.read(magic, 0, 8, 0);
    if (!magic.subarray(0, bytesRead).equals(MAGIC.subarray(0, bytesRead))) {
      throw new UserError(`${path} is not an MCAP file (no MCAP magic at its start)`);
    }
    // magic + a header record + the closing magic: anything shorter is the start of an MCAP cut off.
    if (size < MAGIC.length + 9 + 8 + MAGIC.length) throw new UserError(`${path} is truncated (${size} bytes: not a whole MCAP recording)`);
    const decompress = await decompressHandlers();
    const indexed = await tryIndexed(fh, size, decompress);
    return indexed ? indexedRecording(path, fh, indexed) : await streamedRecording(path, fh, size, decompress);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function tryIndexed(fh: FileHandle, size: number, decompressHandlers: DecompressHandlers): Promise<McapIndexedReader | undefined> {
  const readable = {
    size: async () => BigInt(size),
    read: async (offset: bigint, length: bigint) => {
      // Offsets and lengths come from the file: check them before allocating anything.
      if (offset < 0n || length < 0n || offset + length > BigInt(size)) throw new Error(`a record points past the end of the file (offset ${offset}, ${length} bytes, file ${size} bytes)`);
      if (length > BigInt(MAX_RECORD_BYTES)) throw new Error(`a record claims ${MIB(length)} (limit ${MIB(MAX_RECORD_BYTES)})`);
      const buf = Buffer.alloc(Number(length));
      const { bytesRead } = await fh.read(buf, 0, buf.length, Number(offset));
      if (bytesRead < buf.length) throw new Error('read past the end of the file');
      return buf;
    },
  };
  try {
    const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers });
    // Without chunk indexes the index cannot find messages (an unchunked file): stream it instead.
    return reader.chunkIndexes.length > 0 ? reader : undefined;
  } catch {
    return undefined; // no footer/summary: read it as a stream
  }
}

function channelOf(ch: McapTypes.Channel, schema: McapTypes.Schema | undefined, count: number): RecordingChannel {
  return {
    id: ch.id,
    topic: ch.topic,
    messageEncoding: ch.messageEncoding,
    schemaName: schema?.name ?? '',
    schemaEncoding: schema?.encoding ?? '',
    schemaData: schema?.data ?? new Uint8Array(0),
    messageCount: count,
  };
}

function indexedRecording(path: string, fh: FileHandle, reader: McapIndexedReader): Recording {
  const counts = reader.statistics?.channelMessageCounts;
  const channels = [...reader.channelsById.values()].map((ch) => channelOf(ch, reader.schemasById.get(ch.schemaId), Number(counts?.get(ch.id) ?? 0n)));
  let problem: string | undefined;
  return {
    path,
    channels,
    indexed: true,
    get problem() {
      return problem;
    },
    async *messages(channelId) {
      const topic = channels.find((c) => c.id === channelId)?.topic;
      if (topic === undefined) return;
      try {
        for await (const m of reader.readMessages({ topics: [topic], validateCrcs: true })) {
          if (m.channelId !== channelId) continue;
          yield { logTime: m.logTime, publishTime: m.publishTime, data: m.data };
        }
      } catch (err) {
        problem = `${path}: ${fault(err)}`;
      }
    },
    async timeRange(channelId) {
      const topic = channels.find((c) => c.id === channelId)?.topic;
      if (topic === undefined) return undefined;
      const edge = async (reverse: boolean): Promise<bigint | undefined> => {
        try {
          for await (const m of reader.readMessages({ topics: [topic], reverse })) if (m.channelId === channelId) return m.logTime;
        } catch {
          // a corrupt chunk: reported when the messages are read
        }
        return undefined;
      };
      const first = await edge(false);
      const last = await edge(true);
      return first !== undefined && last !== undefined ? { first, last } : undefined;
    },
    close: () => fh.close(),
  };
}

const TRUNCATED = 'the recording is truncated (it ends in the middle of a record)';

/** The file's records in file order; the generator's return value is the problem found, if any. */
async function* streamRecords(fh: FileHandle, size: number, decompressHandlers: DecompressHandlers): AsyncGenerator<McapTypes.TypedMcapRecord, string | undefined> {
  const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  let offset = 0;
  try {
    while (offset < size) {
      // A fresh buffer per block: the reader may keep views into what it was given.
      const buf = Buffer.alloc(Math.min(READ_BLOCK, size - offset));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      reader.append(buf.subarray(0, bytesRead));
      for (let r = reader.nextRecord(); r; r = reader.nextRecord()) yield r;
      // The reader buffers an unfinished record until it is whole: its declared length is checked first, so
      // that a record claiming more than the file holds, or more than the cap, is not buffered at all.
      const pending = reader.bytesRemaining();
      if (pending >= 9) {
        const at = offset - pending;
        const head = Buffer.alloc(9);
        await fh.read(head, 0, 9, at);
        const length = head.readBigUInt64LE(1);
        if (BigInt(at) + 9n + length > BigInt(size)) return TRUNCATED;
        if (length > BigInt(MAX_RECORD_BYTES)) return `a record at byte ${at} claims ${MIB(length)} (limit ${MIB(MAX_RECORD_BYTES)})`;
      }
    }
  } catch (err) {
    return `${fault(err)} near byte ${offset}`;
  }
  return reader.done() ? undefined : TRUNCATED;
}

async function streamedRecording(path: string, fh: FileHandle, size: number, decompress: DecompressHandlers): Promise<Recording> {
  const schemas = new Map<number, McapTypes.Schema>();
  const found = new Map<number, McapTypes.Channel>();
  const counts = new Map<number, number>();
  const ranges = new Map<number, { first: bigint; last: bigint }>();
  const scan = streamRecords(fh, size, decompress);
  let step = await scan.next();
  for (; !step.done; step = await scan.next()) {
    const r = step.value;
    if (r.type === 'Schema') schemas.set(r.id, r);
    else if (r.type === 'Channel') found.set(r.id, r);
    else if (r.type === 'Message') {
      counts.set(r.channelId, (counts.get(r.channelId) ?? 0) + 1);
      const range = ranges.get(r.channelId);
      if (!range) ranges.set(r.channelId, { first: r.logTime, last: r.logTime });
      else {
        if (r.logTime < range.first) range.first = r.logTime;
        if (r.logTime > range.last) range.last = r.logTime;
      }
    }
  }
  let problem = step.value ? `${path}: ${step.value}` : undefined;
  const channels = [...found.values()].map((ch) => channelOf(ch, schemas.get(ch.schemaId), counts.get(ch.id) ?? 0));
  return {
    path,
    channels,
    indexed: false,
    get problem() {
      return problem;
    },
    async *messages(channelId) {
      // Stream the file again (file order is log-time order for the recorders we know), one block at a time.
      const records = streamRecords(fh, size, decompress);
      let s = await records.next();
      for (; !s.done; s = await records.next()) {
        const r = s.value;
        if (r.type === 'Message' && r.channelId === channelId) yield { logTime: r.logTime, publishTime: r.publishTime, data: r.data };
      }
      if (s.value) problem = `${path}: ${s.value}`;
    },
    timeRange: async (channelId) => ranges.get(channelId),
    close: () => fh.close(),
  };
}
