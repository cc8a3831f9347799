#!/usr/bin/env python3
"""Writes the small PyTorch checkpoints of test/torch-weights.test.ts to test/fixtures/torch/.

Needs PyTorch (e.g. Debian's python3-torch: apt-get install python3-torch, then run with /usr/bin/python3).
The tests never need PyTorch: they read the committed files and expected.json.

  /usr/bin/python3 scripts/make-torch-fixtures.py

Files:
  zip.pth            flat state dict, zip format (torch.save default), pickle protocol 2
  legacy.pth         the same state dict, legacy format (_use_new_zipfile_serialization=False)
  nested.pth         {'params': ..., 'params_ema': ..., 'iter': 100}, zip format, pickle protocol 4
  nested-legacy.pth  the same, legacy format, pickle protocol 4
  weights.safetensors written by hand (struct + json), F32 / F16 / BF16 / F64 / I64 / BOOL
  evil-zip.pth       zip format whose data.pkl calls os.system (must be refused)
  evil-legacy.pth    legacy format whose main pickle calls os.system (must be refused)
  complex.pth        a complex64 tensor (unsupported dtype)
  no-weights.pth     a dict without tensors (no state dict)
  missing-record.pth zip.pth without the storage record of its first tensor
  deflated.pth       zip.pth with deflate-compressed records
  big-endian.pth     a zip checkpoint as a big-endian machine writes it (byteorder record "big", swapped storages)
  pickles.json       plain Python values pickled with protocols 0-5 (base64)
  expected.json      every tensor the tests should read, as float32 values
"""
import base64
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch')


def f32_list(t):
    """Float32 values of a tensor as exact Python floats (repr round-trips through JSON and JS)."""
    return [float(x) for x in t.detach().to(torch.float32).reshape(-1).numpy().astype(np.float32)]


def flat_state_dict():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 6, generator=g)
    shared = torch.randn(20, generator=g)
    sd = collections.OrderedDict()
    sd['conv.weight'] = torch.randn(2, 3, 2, 2, generator=g)
    sd['conv.bias'] = torch.randn(2, generator=g)
    sd['half'] = (torch.randn(3, 4, generator=g) * 10).half()
    sd['bf16'] = torch.randn(5, generator=g).bfloat16()
    sd['double'] = torch.randn(5, generator=g, dtype=torch.float64) / 3
    sd['transposed'] = base.t()  # non-contiguous: stride (1, 6)
    sd['strided'] = base[1:3, ::2]  # offset 6, stride (6, 2)
    sd['shared_a'] = shared[3:9].view(2, 3)  # a view with storage offset 3
    sd['shared_b'] = shared[10:14]  # the same storage at offset 10
    sd['param'] = torch.nn.Parameter(torch.randn(3, generator=g))  # _rebuild_parameter
    sd['scalar'] = torch.tensor(0.25)
    sd['empty'] = torch.zeros(0, 3)
    sd['bn.num_batches_tracked'] = torch.tensor(7, dtype=torch.int64)
    sd['int32'] = torch.tensor([-3, 0, 16777216], dtype=torch.int32)
    sd['mask'] = torch.tensor([True, False, True])
    sd['big_int'] = torch.tensor([2 ** 40 + 1], dtype=torch.int64)  # not exact in float32: left out
    sd['huge_int'] = torch.tensor([2 ** 62], dtype=torch.int64)  # a power of two: exact in float32
    assert not sd['transposed'].is_contiguous() and not sd['strided'].is_contiguous()
    assert sd['shared_a'].storage_offset() == 3 and sd['shared_b'].storage_offset() == 10
    return sd


def small_state_dict(seed):
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    sd['head.weight'] = torch.randn(2, 1, 3, 3, generator=g)
    sd['head.bias'] = torch.randn(2, generator=g)
    sd['tail.weight'] = torch.randn(3, 2, generator=g).t()
    return sd


def expected(sd):
    out = collections.OrderedDict()
    for k, v in sd.items():
        if not v.dtype.is_floating_point:
            vals = [int(x) for x in v.reshape(-1).tolist()]
            if any(float(np.float32(x)) != x for x in vals):
                continue
        out[k] = {'shape': list(v.shape), 'data': f32_list(v)}
    return out


def write_safetensors(path, tensors):
    """The safetensors layout: u64 header length, JSON header (padded to 8 bytes), raw little-endian data."""
    header, blobs, offset = collections.OrderedDict(), [], 0
    header['__metadata__'] = {'format': 'pt'}
    for name, (dtype, arr) in tensors.items():
        raw = arr.tobytes()
        header[name] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


EVIL = b'\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.'


def main():
    os.makedirs(OUT, exist_ok=True)
    path = lambda name: os.path.join(OUT, name)
    sd = flat_state_dict()
    torch.save(sd, path('zip.pth'))
    torch.save(sd, path('legacy.pth'), _use_new_zipfile_serialization=False)
    nested = {'params': small_state_dict(1), 'params_ema': small_state_dict(2), 'iter': 100}
    torch.save(nested, path('nested.pth'), pickle_protocol=4)
    torch.save(nested, path('nested-legacy.pth'), pickle_protocol=4, _use_new_zipfile_serialization=False)

    # safetensors: bfloat16 has no numpy dtype, so its bits are written as uint16
    g = torch.Generator().manual_seed(3)
    st = collections.OrderedDict()
    w = torch.randn(2, 3, generator=g)
    h = torch.randn(4, generator=g).half()
    b = torch.randn(3, generator=g).bfloat16()
    d = torch.randn(2, 2, generator=g, dtype=torch.float64)
    st['w'] = ('F32', w.numpy().astype('<f4'))
    st['h'] = ('F16', h.numpy().astype('<f2'))
    st['b'] = ('BF16', b.view(torch.int16).numpy().astype('<i2'))
    st['d'] = ('F64', d.numpy().astype('<f8'))
    st['count'] = ('I64', np.array([12], dtype='<i8'))
    st['flags'] = ('BOOL', np.array([True, False], dtype=np.bool_))
    st['big'] = ('I64', np.array([2 ** 40 + 1], dtype='<i8'))
    write_safetensors(path('weights.safetensors'), st)
    st_expected = collections.OrderedDict(
        (k, {'shape': list(v.shape), 'data': f32_list(v)})
        for k, v in [('w', w), ('h', h), ('b', b), ('d', d), ('count', torch.tensor([12])), ('flags', torch.tensor([1.0, 0.0]))]
    )

    # a zip checkpoint whose pickle calls os.system, and the same in the legacy layout
    with zipfile.ZipFile(path('evil-zip.pth'), 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', EVIL)
        z.writestr('archive/version', '3\n')
    with open(path('evil-legacy.pth'), 'wb') as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {'protocol_version': 1001, 'little_endian': True}):
            pickle.dump(header, f, protocol=2)
        f.write(EVIL)
        pickle.dump([], f, protocol=2)

    torch.save({'c': torch.zeros(2, dtype=torch.complex64)}, path('complex.pth'))
    torch.save({'epoch': 3, 'note': 'no tensors here'}, path('no-weights.pth'))
    with zipfile.ZipFile(path('zip.pth')) as src:
        first = src.infolist()[0].filename.split('/')[0] + '/data/0'
        with zipfile.ZipFile(path('missing-record.pth'), 'w', zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                if info.filename != first:
                    dst.writestr(info.filename, src.read(info.filename))
        with zipfile.ZipFile(path('deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info.filename))

    # big-endian: torch >= 2.1 writes a byteorder record; storages are in the writer's byte order
    be = collections.OrderedDict([('w', torch.tensor([1.5, -2.0, 3.25])), ('h', torch.tensor([0.5, -1.0], dtype=torch.float16)),
                                  ('n', torch.tensor([-3, 70000], dtype=torch.int64))])
    buf = io.BytesIO()
    torch.save(be, buf)
    sizes = {'0': 4, '1': 2, '2': 8}  # storage keys in pickling order
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path('big-endian.pth'), 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            prefix, _, key = info.filename.rpartition('/data/')
            if key in sizes:
                n = sizes[key]
                data = b''.join(data[i:i + n][::-1] for i in range(0, len(data), n))
            dst.writestr(info.filename, data)
        dst.writestr(src.infolist()[0].filename.split('/')[0] + '/byteorder', 'big')
    be_expected = collections.OrderedDict((k, {'shape': list(v.shape), 'data': f32_list(v)}) for k, v in be.items())

    # plain values through every pickle protocol
    shared = [1, 2]
    value = {
        'ints': [0, 1, -1, 255, 256, 65535, 65536, -65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 53) + 1, 2 ** 70, -(2 ** 70)],
        'floats': [0.5, -2.25, 1e300, float('inf')],
        'strings': ['', 'ascii', 'héllo wörld ✓', 'back\\slash\nnewline', 'x' * 300],
        'bytes': b'\x00\x01\xff',
        'tuple': (1, (2, 3), ()),
        'consts': [None, True, False],
        'shared': [shared, shared],
        'ordered': collections.OrderedDict([('b', 1), ('a', 2)]),
        'set': {7},
        'frozenset': frozenset([8]),
    }
    pickles = {str(p): base64.b64encode(pickle.dumps(value, protocol=p)).decode() for p in range(0, 6)}

    zip_sd = expected(sd)
    exp = {
        'flat': zip_sd,
        'flat_left_out': [k for k in sd if k not in zip_sd],
        'nested': {k: expected(v) for k, v in nested.items() if isinstance(v, dict)},
        'safetensors': st_expected,
        'big_endian': be_expected,
    }
    with open(path('expected.json'), 'w') as f:
        json.dump(exp, f, indent=1)
        f.write('\n')
    with open(path('pickles.json'), 'w') as f:
        json.dump(pickles, f, indent=1)
        f.write('\n')
    for name in sorted(os.listdir(OUT)):
        print(f'{os.path.getsize(path(name)):7d}  {name}', file=sys.stderr)


if __name__ == '__main__':
    main()
