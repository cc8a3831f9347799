/**
 * A second output for a planar (NCHW) image graph: its RGB output as 8-bit Y′CbCr 4:2:0 (I420), studio range, the
 * frame a video encoder takes. ONNX Runtime then returns 1.5 bytes per output pixel instead of 12 (three float32
 * samples), one I420 frame per image in one buffer, and the caller converts nothing: `sharpenVideo` writes these bytes to ffmpeg as they come.
 *
 *   output [N, 3, H, W] ─ Clip 0…1 ─┬─ Conv 1×1 (luma weights) + 16 ─────────────── QuantizeLinear ─ Y [N, 1, H, W] ───────┬─ Concat ─ i420 [N, 1.5·H·W]
 *                                   └─ AveragePool 2×2 ─ Conv 1×1 (chroma weights) + 128 ─ QuantizeLinear ─ Cb, Cr [N, 2, H/2, W/2] ─┘ (each flattened)
 *
 * The same arithmetic as `rgbToI420` (`video/yuv.ts`), which gives the weights (`i420ConvWeights`): clamped RGB, per
 * pixel luma, chroma from the 2×2 mean; QuantizeLinear rounds to the nearest level (ties to even) and saturates. The
 * weights are graph inputs, so one session serves any colour matrix: every run feeds them (ONNX Runtime wants every
 * input), and a run that fetches only the RGB output computes none of this. H and W must be even (AveragePool drops
 * an odd last row or column).
 */
import { appendToOnnxGraph, attr, ONNX_UINT8, OnnxGraph, writeValueInfo } from './onnx-model';
import { PbWriter, readFields, readOnnxMetadata, readOnnxOutputs } from './proto';

/** Names of what {@link withI420Output} adds to a graph. */
export const I420_NAMES = {
  /** Input: luma weights [1, 3, 1, 1] (Y − 16 from RGB in [0, 1]). */
  lumaWeights: 'i420_luma_weights',
  /** Input: chroma weights [2, 3, 1, 1] (Cb − 128 and Cr − 128 from the 2×2 mean of RGB). */
  chromaWeights: 'i420_chroma_weights',
  /** Output: uint8 [N, 1.5·H·W], per image the Y plane, then Cb and Cr at half width and height (an I420 frame). */
  i420: 'i420',
} as const;

/**
 * @internal `model` (ONNX bytes of a planar graph whose first output is RGB in [0, 1]) with the I420 outputs and
 * weight inputs of the file comment.
 *
 * @throws Error when the model has no output, or already has the I420 outputs.
 */
export function withI420Output(model: Uint8Array): Uint8Array {
  const outputs = readOnnxOutputs(model);
  if (outputs.length === 0) throw new Error('the ONNX graph has no output');
  if (outputs.includes(I420_NAMES.i420)) throw new Error('the ONNX graph has I420 outputs already');
  const g = new OnnxGraph();
  const rgb = outputs[0];
  const [lumaW, chromaW] = [I420_NAMES.lumaWeights, I420_NAMES.chromaWeights];
  g.inputs.push({ name: lumaW, dims: [1, 3, 1, 1] }, { name: chromaW, dims: [2, 3, 1, 1] });
  const clipped = g.add('Clip', [rgb, g.floatConst('i420_zero', [], [0]), g.floatConst('i420_one', [], [1])], 'i420_clipped');
  const scale = g.floatConst('i420_scale', [], [1]);
  const zero = g.tensorConst('i420_zero_point', [], new Uint8Array(1));
  const luma = g.add('Conv', [clipped, lumaW, g.floatConst('i420_luma_offset', [1], [16])], 'i420_luma', { kernel_shape: attr.ints([1, 1]) });
  const mean = g.add('AveragePool', [clipped], 'i420_mean', { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  const chroma = g.add('Conv', [mean, chromaW, g.floatConst('i420_chroma_offset', [2], [128, 128])], 'i420_chroma', { kernel_shape: attr.ints([1, 1]) });
  const perImage = g.intConst('i420_per_image', [0, -1]); // [N, everything else]
  const y = g.add('Reshape', [g.add('QuantizeLinear', [luma, scale, zero], 'i420_y'), perImage], 'i420_y_flat');
  const cbcr = g.add('Reshape', [g.add('QuantizeLinear', [chroma, scale, zero], 'i420_cbcr'), perImage], 'i420_cbcr_flat');
  g.nodes.push({ op: 'Concat', inputs: [y, cbcr], outputs: [I420_NAMES.i420], name: 'i420_Concat', attrs: { axis: attr.int(1) } });
  g.outputs.push({ name: I420_NAMES.i420, dims: ['N', 'I420'], type: ONNX_UINT8 });
  return appendToOnnxGraph(model, g);
}

/**
 * @internal Metadata key of a graph whose output is `bilinear_up(input) + detail` with a one-channel (luma) detail:
 * JSON {@link LumaDetailInfo}, written by the exporter. The video pipeline then fetches the detail and does the rest itself
 * (`infer/luma-detail-tail.ts`).
 */
export const LUMA_DETAIL_KEY = 'luma-detail';

/** @internal The value of {@link LUMA_DETAIL_KEY}: the detail tensor's name (`[N, 1, H·scale, W·scale]`) and the scale. */
export interface LumaDetailInfo {
  tensor: string;
  scale: number;
}

/**
 * @internal `model` cut after its luma detail (the tensor named by its {@link LUMA_DETAIL_KEY} metadata): the graph's
 * only output is then that tensor (`[N, 1, H, W]` float), and the nodes and initializers that only served the rest
 * (the upsample of the input, the sum) are gone; undefined for a model without a luma detail. ONNX Runtime runs every
 * node of a graph whatever a run fetches, so the cut is what saves the work; the caller does the rest
 * (`infer/luma-detail-tail.ts`). The bytes are rewritten field by field, nothing else is decoded.
 *
 * With `phases`, when the detail is written by a DepthToSpace of the scale, the cut is before it: the output is the
 * detail's s² sub-pixel phases at input resolution (`[N, s², h, w]`, phase `i·s + j` holding output pixels
 * `(s·y + i, s·x + j)`; DCR and CRD order agree for one channel), named in `phases`.
 */
export function lumaDetailModel(model: Uint8Array, opts: { phases?: boolean } = {}): { model: Uint8Array; detail: LumaDetailInfo; phases?: string } | undefined {
  const raw = readOnnxMetadata(model)[LUMA_DETAIL_KEY];
  if (!raw) return undefined;
  const detail = JSON.parse(raw) as LumaDetailInfo;
  const td = new TextDecoder();
  const strings = (msg: Uint8Array, field: number): string[] =>
    readFields(msg).flatMap((e) => (e.field === field && typeof e.value !== 'number' ? [td.decode(e.value)] : []));
  let output = detail.tensor;
  let phases: string | undefined;
  if (opts.phases) {
    // NodeProto: input=1, output=2, op_type=4, attribute=5 (AttributeProto: name=1, i=3).
    for (const f of readFields(model)) {
      if (f.field !== 7 || typeof f.value === 'number') continue;
      for (const n of readFields(f.value)) {
        if (n.field !== 1 || typeof n.value === 'number' || !strings(n.value, 2).includes(detail.tensor)) continue;
        if (strings(n.value, 4)[0] !== 'DepthToSpace') continue;
        const block = readFields(n.value).flatMap((a) => (a.field === 5 && typeof a.value !== 'number' && strings(a.value, 1)[0] === 'blocksize' ? readFields(a.value).filter((e) => e.field === 3) : []));
        if (block.length === 1 && block[0].value === detail.scale) phases = output = strings(n.value, 1)[0];
      }
    }
  }
  const w = new PbWriter();
  let found = false;
  for (const f of readFields(model)) {
    if (typeof f.value === 'number') w.int(f.field, f.value);
    else if (f.field !== 7) w.bytes(f.field, f.value);
    else {
      // GraphProto: node=1 (NodeProto: input=1, output=2), initializer=5 (TensorProto: name=8), input=11,
      // output=12, value_info=13 (ValueInfoProto: name=1).
      const fields = readFields(f.value);
      const needed = new Set([output]);
      const keep = new Set<(typeof fields)[number]>();
      for (let i = fields.length - 1; i >= 0; i--) {
        const e = fields[i];
        if (e.field !== 1 || typeof e.value === 'number') continue;
        if (!strings(e.value, 2).some((o) => needed.has(o))) continue;
        keep.add(e);
        if (strings(e.value, 2).includes(output)) found = true;
        for (const input of strings(e.value, 1)) needed.add(input);
      }
      w.message(7, (gw) => {
        for (const e of fields) {
          if (typeof e.value === 'number') gw.int(e.field, e.value);
          else if (e.field === 1) {
            if (keep.has(e)) gw.bytes(1, e.value);
          } else if (e.field === 5) {
            if (strings(e.value, 8).some((n) => needed.has(n))) gw.bytes(5, e.value);
          } else if (e.field === 11 || e.field === 13) {
            if (strings(e.value, 1).some((n) => needed.has(n))) gw.bytes(e.field, e.value);
          } else if (e.field !== 12) gw.bytes(e.field, e.value);
        }
        gw.message(12, (vw) => writeValueInfo(vw, phases ? { name: phases, dims: ['N', detail.scale ** 2, 'H', 'W'] } : { name: detail.tensor, dims: ['N', 1, 'OH', 'OW'] }));
      });
    }
  }
  if (!found) throw new Error(`the ONNX graph has no node that writes its luma detail "${output}"`);
  return { model: w.finish(), detail, ...(phases ? { phases } : {}) };
}
