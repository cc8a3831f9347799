/**
 * loadTorchWeights: PyTorch zip / legacy checkpoints and safetensors read without PyTorch. The fixtures and their
 * expected values come from scripts/make-torch-fixtures.py (run with PyTorch installed); the real-teacher test reads
 * $SHARPEN_KD_TEACHERS/EMT/EMT_LSR_x4.pth (default ../shared/teachers) and skips when it is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, ModelError, SharpenError } from '../src/errors';
import { loadTorchWeights as fromRoot } from '../src/index';
import { readTorchWeights } from '../src/io/model-io-node';
import { unpickle } from '../src/io/pickle';
import { findGlobal, loadTorchWeights, type TorchWeights } from '../src/io/torch-weights';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test/fixtures/torch');
const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));

interface Expected {
  shape: number[];
  data: number[];
}
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as {
  flat: Record<string, Expected>;
  flat_left_out: string[];
  nested: Record<'params' | 'params_ema', Record<string, Expected>>;
  safetensors: Record<string, Expected>;
  big_endian: Record<string, Expected>;
};

function expectWeights(w: TorchWeights, want: Record<string, Expected>): void {
  expect([...w.keys()]).toEqual(Object.keys(want));
  for (const [name, e] of Object.entries(want)) {
    const t = w.get(name)!;
    expect(t.dtype, name).toBe('float32');
    expect(t.shape, name).toEqual(e.shape);
    expect(t.data, name).toBeInstanceOf(Float32Array);
    // exact: the JSON numbers are float32 values written as doubles
    expect(Array.from(t.data), name).toEqual(e.data);
  }
}

function thrown(fn: () => unknown): SharpenError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SharpenError);
    return e as SharpenError;
  }
  throw new Error('expected an error');
}

describe('loadTorchWeights: formats', () => {
  it('zip format (torch.save): dtypes, strides, shared storages, parameters, integer buffers', () => {
    const w = loadTorchWeights(fixture('zip.pth'));
    expectWeights(w, expected.flat);
    expect(expected.flat_left_out).toEqual(['big_int']); // 2^40 + 1 is not a float32
    expect(w.get('transposed')!.shape).toEqual([6, 4]);
    expect(w.get('scalar')).toEqual({ dtype: 'float32', shape: [], data: new Float32Array([0.25]) });
    expect(w.get('bn.num_batches_tracked')!.data).toEqual(new Float32Array([7]));
    expect(w.get('empty')!.shape).toEqual([0, 3]);
    // each tensor owns its data (not a view of the file)
    expect(w.get('conv.weight')!.data.buffer.byteLength).toBe(2 * 3 * 2 * 2 * 4);
  });

  it('legacy format (_use_new_zipfile_serialization=False) reads the same state dict', () => {
    expectWeights(loadTorchWeights(fixture('legacy.pth')), expected.flat);
  });

  it('a nested checkpoint (pickle protocol 4): params_ema by default, key chooses', () => {
    for (const file of ['nested.pth', 'nested-legacy.pth']) {
      expectWeights(loadTorchWeights(fixture(file)), expected.nested.params_ema);
      expectWeights(loadTorchWeights(fixture(file), { key: 'params' }), expected.nested.params);
      expectWeights(loadTorchWeights(fixture(file), { key: 'params_ema' }), expected.nested.params_ema);
    }
  });

  it('safetensors: F32 / F16 / BF16 / F64 / I64 / BOOL; an int64 float32 cannot hold is left out', () => {
    const w = loadTorchWeights(fixture('weights.safetensors'));
    expectWeights(w, expected.safetensors);
    expect(w.has('big')).toBe(false);
    expectWeights(loadTorchWeights(fixture('weights.safetensors'), { key: 'params' }), expected.safetensors);
  });

  it('a big-endian zip checkpoint (byteorder record "big") is byte-swapped', () => {
    expectWeights(loadTorchWeights(fixture('big-endian.pth')), expected.big_endian);
  });

  it('is exported from the package root; accepts a Node Buffer (a view into a larger pool)', () => {
    const buf = fs.readFileSync(path.join(FIXTURES, 'zip.pth'));
    const padded = new Uint8Array(buf.length + 13);
    padded.set(buf, 5);
    expectWeights(fromRoot(padded.subarray(5, 5 + buf.length)), expected.flat);
    expectWeights(fromRoot(buf), expected.flat);
  });
});

describe('loadTorchWeights: errors', () => {
  it('random bytes and empty input: InputError, not a checkpoint', () => {
    let seed = 12345;
    const random = new Uint8Array(4096).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    for (const bytes of [random, new Uint8Array(0), new TextEncoder().encode('hello, this is text\n'.repeat(30))]) {
      const e = thrown(() => loadTorchWeights(bytes));
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(/not a PyTorch checkpoint/);
    }
    // a pickle, but not a torch checkpoint
    const e = thrown(() => loadTorchWeights(new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e])));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/not a PyTorch checkpoint/);
  });

  it('truncated files: InputError that says truncated', () => {
    for (const file of ['zip.pth', 'legacy.pth', 'nested-legacy.pth', 'weights.safetensors']) {
      const bytes = fixture(file);
      for (const cut of [0.3, 0.6, 0.95]) {
        const e = thrown(() => loadTorchWeights(bytes.subarray(0, Math.floor(bytes.length * cut))));
        expect(e, `${file} cut at ${cut}`).toBeInstanceOf(InputError);
        expect(e.message, `${file} cut at ${cut}`).toMatch(/truncated/);
      }
    }
  });

  it('a pickle that calls os.system: ModelError naming the global, nothing runs', () => {
    for (const file of ['evil-zip.pth', 'evil-legacy.pth']) {
      const e = thrown(() => loadTorchWeights(fixture(file)));
      expect(e).toBeInstanceOf(ModelError);
      expect(e.code).toBe('E_MODEL');
      expect(e.message).toMatch(/"os\.system".*not on the allow-list/);
      expect(e.message).toMatch(/torch\.save\(model\.state_dict\(\)/);
    }
  });

  it('unsupported dtypes: ModelError naming the tensor and dtype', () => {
    const e = thrown(() => loadTorchWeights(fixture('complex.pth')));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/tensor "c" has dtype torch\.ComplexFloatStorage/);
    const header = new TextEncoder().encode(JSON.stringify({ f8: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }));
    const st = new Uint8Array(8 + header.length + 2);
    new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
    st.set(header, 8);
    const e2 = thrown(() => loadTorchWeights(st));
    expect(e2).toBeInstanceOf(ModelError);
    expect(e2.message).toMatch(/tensor "f8" has dtype F8_E4M3/);
  });

  it('a missing storage record: InputError naming the record and the tensor', () => {
    const e = thrown(() => loadTorchWeights(fixture('missing-record.pth')));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/no storage record "zip\/data\/0" for tensor "conv\.weight"/);
  });

  it('a deflate-compressed archive: InputError that says how to repack', () => {
    const e = thrown(() => loadTorchWeights(fixture('deflated.pth')));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/compressed.*torch\.save/);
  });

  it('no state dict, or a key that is not one: ModelError listing what is there', () => {
    const e = thrown(() => loadTorchWeights(fixture('no-weights.pth')));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/no state dict found.*"epoch", "note"/);
    const e2 = thrown(() => loadTorchWeights(fixture('nested.pth'), { key: 'state_dict' }));
    expect(e2).toBeInstanceOf(ModelError);
    expect(e2.message).toMatch(/no entry "state_dict".*"params", "params_ema", "iter"/);
    const e3 = thrown(() => loadTorchWeights(fixture('nested.pth'), { key: 'iter' }));
    expect(e3).toBeInstanceOf(ModelError);
    expect(e3.message).toMatch(/entry "iter" is a number without tensors/);
  });

  it('the Node reader names the file', async () => {
    const missing = path.join(FIXTURES, 'nope.pth');
    await expect(readTorchWeights(missing)).rejects.toMatchObject({ code: 'E_INPUT', file: missing });
    await expect(readTorchWeights(path.join(FIXTURES, 'evil-zip.pth'))).rejects.toThrow(/evil-zip\.pth: .*os\.system/);
    const w = await readTorchWeights(path.join(FIXTURES, 'nested.pth'), { key: 'params' });
    expectWeights(w, expected.nested.params);
  });
});

describe('restricted unpickler', () => {
  const pickles = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'pickles.json'), 'utf8')) as Record<string, string>;
  const shared = [1, 2];
  const want = new Map<string, unknown>([
    ['ints', [0, 1, -1, 255, 256, 65535, 65536, -65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 53) + 1, 2n ** 70n, -(2n ** 70n)]],
    ['floats', [0.5, -2.25, 1e300, Infinity]],
    ['strings', ['', 'ascii', 'héllo wörld ✓', 'back\\slash\nnewline', 'x'.repeat(300)]],
    ['bytes', new Uint8Array([0, 1, 255])],
    ['tuple', [1, [2, 3], []]],
    ['consts', [null, true, false]],
    ['shared', [shared, shared]],
    ['ordered', new Map([['b', 1], ['a', 2]])],
    ['set', new Set([7])],
    ['frozenset', new Set([8])],
  ]);

  it.each(['0', '1', '2', '3', '4', '5'])('reads plain values pickled with protocol %s', (protocol) => {
    const bytes = Uint8Array.from(atob(pickles[protocol]), (c) => c.charCodeAt(0));
    const { value, end } = unpickle(bytes, { findGlobal });
    expect(end).toBe(bytes.length);
    expect(value).toEqual(want);
    const v = value as Map<string, unknown[][]>;
    expect(v.get('shared')![0]).toBe(v.get('shared')![1]); // the memo keeps identity
  });

  it('refuses a global before anything can run, and persistent ids where none are expected', () => {
    // protocol 0: c posix\nsystem\n (S'true'\n tR.
    const evil = new TextEncoder().encode("cposix\nsystem\n(S'true'\ntR.");
    expect(() => unpickle(evil, { findGlobal })).toThrow(/"posix\.system"/);
    // names that exist on every JS object are not globals either
    for (const [m, n] of [['builtins', 'constructor'], ['torch', 'constructor'], ['__builtin__', '__proto__'], ['collections', 'toString']]) {
      expect(() => unpickle(new TextEncoder().encode(`c${m}\n${n}\n.`), { findGlobal }), `${m}.${n}`).toThrow(ModelError);
    }
    const persid = new TextEncoder().encode('P0\n.');
    expect(() => unpickle(persid, { findGlobal })).toThrow(InputError);
  });
});

const TEACHERS = path.resolve(ROOT, process.env.SHARPEN_KD_TEACHERS ?? '../shared/teachers');
const EMT_X4 = path.join(TEACHERS, 'EMT/EMT_LSR_x4.pth');
const hasEmt = fs.existsSync(EMT_X4);

describe('the EMT teacher checkpoint', () => {
  it.skipIf(!hasEmt)('EMT_LSR_x4.pth: 476 entries under params, values as PyTorch reads them, well under a second', async () => {
    const bytes = new Uint8Array(fs.readFileSync(EMT_X4));
    const t0 = performance.now();
    const w = loadTorchWeights(bytes);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(w.size).toBe(476);
    const keys = [...w.keys()];
    expect(keys[0]).toBe('sub_mean.weight');
    expect(keys[keys.length - 1]).toBe('tail.0.bias');
    const head = w.get('head.weight')!;
    const tail = w.get('tail.0.weight')!;
    expect(head.shape).toEqual([60, 3, 3, 3]);
    expect(tail.shape).toEqual([48, 60, 3, 3]);
    // values printed by PyTorch 1.13 (torch.load(...)['params'])
    const at = (t: { shape: readonly number[]; data: Float32Array }, idx: number[]) =>
      t.data[idx.reduce((o, i, d) => o * t.shape[d] + i, 0)];
    expect(at(head, [0, 0, 0, 0])).toBe(Math.fround(-0.006002302281558514));
    expect(at(head, [59, 2, 2, 2])).toBe(Math.fround(-0.014176366850733757));
    expect(at(head, [17, 1, 0, 2])).toBe(Math.fround(-0.0626419335603714));
    expect(at(tail, [0, 0, 0, 0])).toBe(Math.fround(0.05135393887758255));
    expect(at(tail, [47, 59, 2, 2])).toBe(Math.fround(-0.01851246878504753));
    expect(at(tail, [20, 33, 1, 1])).toBe(Math.fround(-0.12811769545078278));
    expect(w.get('tail.0.bias')!.data[5]).toBe(Math.fround(-0.24763596057891846));
    expect(head.data.reduce((a, b) => a + Math.abs(b), 0)).toBeCloseTo(95.60639305273719, 3);
    expect(w.get('body.0.sa_list.2.norm.num_batches_tracked')!.data).toEqual(new Float32Array([1e6]));
    // the same through the explicit key and the Node reader
    expect((await readTorchWeights(EMT_X4, { key: 'params' })).size).toBe(476);
  });
});
