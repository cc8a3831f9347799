#!/usr/bin/env python3
"""Reference fixtures for src/metrics (PSNR, SSIM, Y channel, MATLAB-style bicubic imresize).

An independent float64 implementation in numpy/scipy of the super-resolution literature's protocol:
  * imresize: MATLAB's algorithm (cubic a=-0.5, kernel widened by 1/scale when downscaling with antialiasing,
    symmetric boundary, all-zero taps dropped, rows first unless the width shrinks more, uint8/uint16 inputs
    rounded and saturated after EACH pass as MATLAB's imresizemex does).
  * Y = 16 + 65.481 R + 128.553 G + 24.966 B (RGB in [0,1]), kept in float (BasicSR's to_y_channel);
    a 1-channel image is its own Y; when one image is gray and the other RGB, the RGB one becomes
    full-range BT.601 luma (65.481 R + 128.553 G + 24.966 B) / 219.
  * PSNR on the 255 scale, float64; SSIM with an 11x11 Gaussian window (sigma 1.5), C1=(0.01*255)^2,
    C2=(0.03*255)^2, valid filtering, mean of the map, RGB = mean over channels.
SSIM and PSNR are cross-checked against scikit-image before being written.

Run ONCE with Debian's python (the tests do not need python):
    apt-get install -y python3-numpy python3-scipy python3-skimage
    /usr/bin/python3 scripts/make-metric-fixtures.py
Writes test/fixtures/metrics/{resize,metrics}.json.
"""
import json
import os

import numpy as np
from scipy.signal import correlate2d
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'metrics')


# ---------------------------------------------------------------- imresize (MATLAB port)
def cubic(x):
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


def contributions(n_in, n_out, scale, antialias):
    width = 4.0
    aa = scale < 1 and antialias
    if aa:
        width /= scale
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    p = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(p)[None, :]  # 1-based, may fall outside [1, n_in]
    dist = u[:, None] - idx
    w = scale * cubic(dist * scale) if aa else cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(n_in), np.arange(n_in - 1, -1, -1)])  # symmetric padding
    idx0 = mirror[np.mod(idx.astype(np.int64) - 1, 2 * n_in)]
    keep = np.any(w != 0, axis=0)
    return w[:, keep], idx0[:, keep]


def resize_along(a, dim, w, idx, maxval):
    a = np.moveaxis(a, dim, 0).astype(np.float64)
    out = np.einsum('op,op...->o...', w, a[idx])
    if maxval is not None:
        out = np.floor(np.clip(out, 0, maxval) + 0.5)  # MATLAB rounds half away from zero (np.round: half to even)
    return np.moveaxis(out, 0, dim)


def imresize(img, scale=None, output_size=None, antialias=True):
    maxval = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(img.dtype)
    a = img if img.ndim == 3 else img[:, :, None]
    h, w = a.shape[:2]
    if output_size is not None:
        oh, ow = output_size
        sh, sw = oh / h, ow / w
    else:
        sh = sw = scale
        oh, ow = int(np.ceil(h * scale)), int(np.ceil(w * scale))
    order = [0, 1] if sh <= sw else [1, 0]  # the dimension that shrinks most goes first (stable sort)
    plans = {0: contributions(h, oh, sh, antialias), 1: contributions(w, ow, sw, antialias)}
    for d in order:
        a = resize_along(a, d, plans[d][0], plans[d][1], maxval)
    if maxval is not None:
        a = a.astype(img.dtype)
    return a if img.ndim == 3 else a[:, :, 0]


# ---------------------------------------------------------------- Y, PSNR, SSIM
def y_pair(a, b):
    """a, b: float64 HxWxC on the 255 scale. Returns the two Y planes."""
    ca, cb = a.shape[2], b.shape[2]
    def luma(x):
        return (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255

    if ca == 1 and cb == 1:
        return a[..., 0], b[..., 0]
    if ca == 1:
        return a[..., 0], luma(b) * 255 / 219
    if cb == 1:
        return luma(a) * 255 / 219, b[..., 0]
    return 16 + luma(a), 16 + luma(b)


def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def ssim_plane(a, b):
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()
    win = np.outer(g, g)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    f = lambda x: correlate2d(x, win, mode='valid')
    mu1, mu2 = f(a), f(b)
    s11, s22, s12 = f(a * a) - mu1 ** 2, f(b * b) - mu2 ** 2, f(a * b) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s11 + s22 + c2))
    return float(m.mean())


def score(a, b, y_channel, crop):
    """a, b: float64 HxWxC on the 255 scale."""
    if y_channel:
        pa, pb = y_pair(a, b)
        pa, pb = pa[..., None], pb[..., None]
    else:
        pa, pb = a, b
        if pa.shape[2] != pb.shape[2]:
            pa = np.repeat(pa, 3, axis=2) if pa.shape[2] == 1 else pa
            pb = np.repeat(pb, 3, axis=2) if pb.shape[2] == 1 else pb
    if crop:
        pa, pb = pa[crop:-crop, crop:-crop], pb[crop:-crop, crop:-crop]
    p = psnr(pa, pb)
    s = float(np.mean([ssim_plane(pa[..., c], pb[..., c]) for c in range(pa.shape[2])]))
    # Cross-check against scikit-image (Gaussian window truncated at 3.5 sigma = 11 taps; its border crop of 5
    # equals valid filtering).
    p2 = peak_signal_noise_ratio(pa, pb, data_range=255)
    s2 = structural_similarity(pa, pb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                               data_range=255, channel_axis=2)
    assert abs(p - p2) < 1e-9 and abs(s - s2) < 1e-9, (p, p2, s, s2)
    return p, s


# ---------------------------------------------------------------- synthetic images
def synth(h, w, c, seed):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for k in range(c):
        ph = rng.uniform(0, 2 * np.pi)
        v = 0.5 + 0.25 * np.sin(xx / (2.0 + k) + ph) * np.cos(yy / 3.0 - ph) + 0.1 * (xx - yy) / (w + h)
        v += np.where((xx > w / 3) & (yy > h / 4) & (xx < 2 * w / 3), 0.2, 0.0)  # a sharp-edged block
        v += 0.08 * rng.randn(h, w)
        chans.append(v)
    return np.clip(np.stack(chans, axis=2), 0, 1)


def u8(x):
    return np.floor(x * 255 + 0.5).astype(np.uint8)


def enc(img):
    arr = np.asarray(img)
    if arr.dtype.kind == 'f':
        data = [float(f'{v:.9g}') for v in arr.ravel()]
    else:
        data = [int(v) for v in arr.ravel()]
    h, w = arr.shape[:2]
    c = 1 if arr.ndim == 2 else arr.shape[2]
    return {'height': h, 'width': w, 'channels': c, 'dtype': str(arr.dtype), 'data': data}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []

    def add(name, img, scale=None, output_size=None, antialias=True):
        out = imresize(img, scale=scale, output_size=output_size, antialias=antialias)
        cases.append({'name': name, 'scale': scale, 'outputSize': list(output_size) if output_size else None,
                      'antialias': antialias, 'input': enc(img), 'expected': enc(out)})

    rgb = synth(24, 18, 3, 1)
    add('u8 rgb 24x18 down x2', u8(rgb), 1 / 2)
    add('u8 rgb 24x18 down x3', u8(rgb), 1 / 3)
    add('u8 rgb 24x18 down x2 no antialias', u8(rgb), 1 / 2, antialias=False)
    add('u8 rgb 24x20 down x4', u8(synth(24, 20, 3, 2)), 1 / 4)
    small = synth(9, 7, 3, 3)
    for s in (2, 3, 4):
        add(f'u8 rgb 9x7 up x{s}', u8(small), s)
    add('u8 gray 16x13 down x2 (odd width)', u8(synth(16, 13, 1, 4))[:, :, 0], 1 / 2)
    add('u8 rgb 10x8 scale 1.5', u8(synth(10, 8, 3, 5)), 1.5)
    add('u8 rgb 10x8 to 15x5 (width first)', u8(synth(10, 8, 3, 5)), output_size=(15, 5))
    add('u8 rgb 10x8 to 7x11', u8(synth(10, 8, 3, 5)), output_size=(7, 11))
    add('u16 rgb 12x12 down x3', np.round(synth(12, 12, 3, 6) * 65535).astype(np.uint16), 1 / 3)
    add('float rgb 24x20 down x4', synth(24, 20, 3, 2), 1 / 4)
    add('float rgb 9x7 up x3', small, 3)
    add('float rgb 20x16 down x2 no antialias', synth(20, 16, 3, 7), 1 / 2, antialias=False)
    with open(os.path.join(OUT, 'resize.json'), 'w') as f:
        json.dump({'generator': 'scripts/make-metric-fixtures.py', 'cases': cases}, f, separators=(',', ':'))

    pairs, images = [], {}

    def ref(img):
        key = f'img{len(images)}'
        for k, v in images.items():
            if v is img:
                return k
        images[key] = img
        return key

    def add_pair(name, a, b, y_channel, crop, quantize=False):
        fa = a.astype(np.float64) * (255 if a.dtype.kind == 'f' else 1)
        fb = b.astype(np.float64) * (255 if b.dtype.kind == 'f' else 1)
        if quantize:
            fa, fb = np.floor(np.clip(fa, 0, 255) + 0.5), np.floor(np.clip(fb, 0, 255) + 0.5)
        fa = fa if fa.ndim == 3 else fa[:, :, None]
        fb = fb if fb.ndim == 3 else fb[:, :, None]
        p, s = score(fa, fb, y_channel, crop)
        pairs.append({'name': name, 'yChannel': y_channel, 'crop': crop, 'quantize': quantize,
                      'a': ref(a), 'b': ref(b), 'psnr': p, 'ssim': s})

    hr = synth(32, 28, 3, 10)
    rng = np.random.RandomState(11)
    # A plausible "SR output": down x2, up x2 (float), plus a little noise.
    sr = np.clip(imresize(imresize(hr, 1 / 2), 2) + 0.02 * rng.randn(*hr.shape), 0, 1)
    hr8, sr8 = u8(hr), u8(sr)
    for y in (True, False):
        for crop in (0, 2, 4):
            add_pair(f'u8 rgb y={y} crop={crop}', hr8, sr8, y, crop)
    add_pair('float rgb y=True crop=3', hr, sr, True, 3)
    add_pair('float rgb y=False crop=0', hr, sr, False, 0)
    add_pair('float rgb y=True crop=2 quantized', hr, sr, True, 2, quantize=True)
    g_hr = u8(synth(30, 26, 1, 12))[:, :, 0]
    g_sr = np.clip(g_hr.astype(np.int32) + rng.randint(-9, 10, size=g_hr.shape), 0, 255).astype(np.uint8)
    add_pair('u8 gray y=True crop=2', g_hr, g_sr, True, 2)
    add_pair('u8 gray y=False crop=0', g_hr, g_sr, False, 0)
    # Gray HR against an RGB SR whose channels differ slightly (what an RGB model returns for a gray input).
    rgb_sr = np.clip(np.stack([g_sr, g_sr, g_sr], axis=2).astype(np.int32) + rng.randint(-2, 3, size=(30, 26, 3)), 0, 255).astype(np.uint8)
    add_pair('u8 gray HR vs rgb SR y=True crop=3', g_hr, rgb_sr, True, 3)
    add_pair('u8 gray HR vs rgb SR y=False crop=0', g_hr, rgb_sr, False, 0)
    with open(os.path.join(OUT, 'metrics.json'), 'w') as f:
        json.dump({'generator': 'scripts/make-metric-fixtures.py', 'images': {k: enc(v) for k, v in images.items()},
                   'pairs': pairs}, f, separators=(',', ':'))
    print(f'wrote {len(cases)} resize cases and {len(pairs)} metric pairs to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
