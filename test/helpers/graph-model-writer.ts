// Writes a TF.js GraphModel (model.json + one .bin shard) from node definitions and known weights, in the form
// tensorflowjs_converter emits (Const nodes backed by the weights manifest, base64 string attrs), so tests can
// build small models with the same op structure as real exports.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Dtype = 'float32' | 'int32';
interface Node {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const DT = { float32: 'DT_FLOAT', int32: 'DT_INT32' } as const;
const T = { T: { type: 'DT_FLOAT' } };

function shapeProto(shape: number[]) {
  return { dim: shape.map((d) => ({ size: String(d) })) };
}

export class GraphModelWriter {
  readonly nodes: Node[] = [];
  private readonly weights: { name: string; shape: number[]; dtype: Dtype; data: Float32Array | Int32Array }[] = [];
  private counter = 0;

  /** Unique node names in the converter's style (`prefix/tf.op_N/Op`). */
  name(kind: string, op: string): string {
    return `PartitionedCall/model/${kind}_${this.counter++}/${op}`;
  }

  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shapeProto(shape) } } });
    return name;
  }

  const(values: ArrayLike<number>, shape: number[], dtype: Dtype = 'float32', name = `${this.counter++}`): string {
    const n = shape.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`const ${name}: ${values.length} values for shape [${shape}]`);
    const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    this.weights.push({ name, shape, dtype, data });
    this.nodes.push({ name, op: 'Const', attr: { value: { tensor: { dtype: DT[dtype], tensorShape: shapeProto(shape) } }, dtype: { type: DT[dtype] } } });
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { ...T, ...attr } });
    return name;
  }

  /** Conv2D (NHWC) then AddV2 of the bias, as the ultralytics export converts a fused conv + BN. */
  conv(x: string, filter: ArrayLike<number>, shape: [number, number, number, number], bias: ArrayLike<number>, stride = 1, padding: 'SAME' | 'VALID' = 'SAME'): string {
    const w = this.const(filter, shape);
    const conv = this.op(this.name('tf.nn.convolution', 'convolution'), 'Conv2D', [x, w], {
      strides: { list: { i: ['1', String(stride), String(stride), '1'] } },
      padding: { s: b64(padding) },
      data_format: { s: b64('NHWC') },
      dilations: { list: { i: ['1', '1', '1', '1'] } },
    });
    return this.op(this.name('tf.math.add', 'Add'), 'AddV2', [conv, this.const(bias, [shape[3]])]);
  }

  /** SiLU as exported: x · sigmoid(x). */
  silu(x: string): string {
    const s = this.op(this.name('tf.math.sigmoid', 'Sigmoid'), 'Sigmoid', [x]);
    return this.op(this.name('tf.math.multiply', 'Mul'), 'Mul', [x, s]);
  }

  concat(xs: string[], axis: number): string {
    const a = this.const([axis], [], 'int32');
    return this.op(this.name('tf.concat', 'concat'), 'ConcatV2', [...xs, a], { N: { i: String(xs.length) }, Tidx: { type: 'DT_INT32' } });
  }

  transpose(x: string, perm: number[]): string {
    return this.op(this.name('tf.compat.v1.transpose', 'transpose'), 'Transpose', [x, this.const(perm, [perm.length], 'int32')], { Tperm: { type: 'DT_INT32' } });
  }

  reshape(x: string, shape: number[]): string {
    return this.op(this.name('tf.reshape', 'Reshape'), 'Reshape', [x, this.const(shape, [shape.length], 'int32')], { Tshape: { type: 'DT_INT32' } });
  }

  /** StridedSlice with masks, as the converter writes `x[:, a:b]`. */
  stridedSlice(x: string, begin: number[], end: number[], beginMask: number, endMask: number): string {
    const r = begin.length;
    return this.op(
      this.name('tf.strided_slice', 'StridedSlice'),
      'StridedSlice',
      [x, this.const(begin, [r], 'int32'), this.const(end, [r], 'int32'), this.const(new Array(r).fill(1), [r], 'int32')],
      {
        Index: { type: 'DT_INT32' },
        begin_mask: { i: String(beginMask) },
        end_mask: { i: String(endMask) },
        ellipsis_mask: { i: '0' },
        new_axis_mask: { i: '0' },
        shrink_axis_mask: { i: '0' },
      },
    );
  }

  /** Write model.json + group1-shard1of1.bin into `dir`; returns the model.json path. */
  async write(dir: string, output: string, file = 'model.json'): Promise<string> {
    await mkdir(dir, { recursive: true });
    const identity = this.op('Identity', 'Identity', [output]);
    void identity;
    const bin = Buffer.concat(this.weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)));
    const shard = `${file.replace(/\.json$/, '')}-group1-shard1of1.bin`;
    await writeFile(join(dir, shard), bin);
    const json = {
      format: 'graph-model',
      generatedBy: '2.13.0',
      convertedBy: 'saliencam test GraphModelWriter',
      signature: { outputs: { 'Identity:0': { name: 'Identity:0' } } },
      modelTopology: { node: this.nodes, library: {}, versions: { producer: 1286 } },
      weightsManifest: [{ paths: [shard], weights: this.weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
    };
    const path = join(dir, file);
    await writeFile(path, JSON.stringify(json));
    return path;
  }
}
