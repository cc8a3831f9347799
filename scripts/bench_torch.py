#!/usr/bin/env python3
"""PyTorch side of scripts/bench-vs-pytorch.ts: the shipped compact students rebuilt in PyTorch from their TF.js files.

Reads models/<name>/model.json + weights.bin with numpy (no TF.js), builds the same network in torch (NCHW), and then
serves requests from the Node script, one JSON object per line on stdin, one JSON answer per line on stdout:

  {"cmd": "verify", "input": path, "shape": [1, H, W, 3], "output": path}
      runs the network on the NHWC float32 file `input` and writes the NHWC float32 output to `output`
  {"cmd": "time", "variant": "freeze" | "optimize", "n": 10, "h": 180, "w": 320}
      times n frames (ms each, after one untimed frame of that size) of the frozen TorchScript module
  {"cmd": "sgemm", "n": 1024, "reps": 20}
      GFLOP/s of a float32 n×n matmul (PyTorch's BLAS; the convolutions go through oneDNN and can be much faster)
  {"cmd": "quit"}

Supported topology: InputLayer, Conv2D (3×3 'same', bias), PReLU (one slope per channel, or one per layer: LeakyReLU),
PixelShuffle (TF's depthToSpace order, which is torch's pixel_shuffle only for one channel: RGB kernels are permuted to
match), and AddUpsampledInput (nearest or bilinear with half-pixel centres = F.interpolate(align_corners=False)). That
covers the shipped x1, x2, x2-fast and x4. Needs Debian's python3-torch (run with /usr/bin/python3) and numpy; not a dependency of
sharpen-kd.

Usage: /usr/bin/python3 scripts/bench_torch.py --model-dir models/x4 --threads 2
"""
import argparse
import resource
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_lines import serve


def load_layers_model(model_dir):
    """The layer list and the named float32 weights of a TF.js layers model."""
    with open(os.path.join(model_dir, "model.json")) as f:
        m = json.load(f)
    layers = m["modelTopology"]["config"]["layers"]
    weights = {}
    for group in m["weightsManifest"]:
        blob = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise SystemExit(f"unsupported weight {w['name']}: only float32 weights are read")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            weights[w["name"]] = np.frombuffer(blob, dtype=np.float32, count=n, offset=off).reshape(w["shape"])
            off += 4 * n
    return layers, weights


class Compact(torch.nn.Module):
    """The compact student: [conv 3×3 + PReLU]* → conv 3×3 → pixel shuffle → + upsampled input."""

    def __init__(self, layers, weights):
        super().__init__()
        self.convs = torch.nn.ModuleList()
        self.prelus = torch.nn.ModuleList()
        self.scale = 1
        self.interpolation = "nearest"
        shuffle = None
        names = [l["class_name"] for l in layers]
        for layer in layers:
            cls, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
            if cls == "InputLayer":
                continue
            if cls == "Conv2D":
                k = cfg["kernel_size"]
                if cfg["padding"] != "same" or k[0] != k[1] or k[0] % 2 != 1 or cfg.get("strides", [1, 1]) != [1, 1]:
                    raise SystemExit(f"unsupported conv {name}")
                kernel = weights[f"{name}/kernel"]  # HWIO
                conv = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], k[0], padding=k[0] // 2, bias=True)
                with torch.no_grad():
                    conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))  # OIHW
                    conv.bias.copy_(torch.from_numpy(weights[f"{name}/bias"].copy()))
                self.convs.append(conv)
            elif cls == "PReLU":
                alpha = weights[f"{name}/alpha"]
                if alpha.shape[0] != 1 or alpha.shape[1] != 1:
                    raise SystemExit(f"unsupported PReLU {name}: one slope per channel or per layer only")
                if alpha.size == 1:
                    # One slope for the layer: a leaky ReLU (what the ONNX export writes too).
                    p = torch.nn.LeakyReLU(float(alpha.reshape(-1)[0]))
                else:
                    p = torch.nn.PReLU(alpha.shape[2])
                    with torch.no_grad():
                        p.weight.copy_(torch.from_numpy(alpha.reshape(-1).copy()))
                if len(self.prelus) != len(self.convs) - 1:
                    raise SystemExit("unsupported topology: a PReLU after every conv but the last")
                self.prelus.append(p)
            elif cls == "PixelShuffle":
                shuffle = cfg["scale"]
            elif cls == "AddUpsampledInput":
                self.scale = cfg["scale"]
                self.interpolation = cfg.get("interpolation", "nearest")
            else:
                raise SystemExit(f"unsupported layer class {cls} ({names})")
        if len(self.prelus) != len(self.convs) - 1:
            raise SystemExit("unsupported topology: expected a PReLU after every conv but the last")
        if shuffle is not None and shuffle != self.scale:
            raise SystemExit("unsupported topology: pixel shuffle and residual scales differ")
        last = self.convs[-1]
        r = self.scale
        c = last.out_channels // (r * r)
        if r > 1 and c > 1:
            # TF depthToSpace reads channel (i*r + j)*C + c; torch pixel_shuffle reads c*r*r + i*r + j.
            perm = [(i * c + ch) for ch in range(c) for i in range(r * r)]
            with torch.no_grad():
                last.weight.copy_(last.weight[perm].clone())
                last.bias.copy_(last.bias[perm].clone())

    def forward(self, x):
        y = x
        for conv, prelu in zip(self.convs[:-1], self.prelus):
            y = prelu(conv(y))
        y = self.convs[-1](y)
        if self.scale > 1:
            y = F.pixel_shuffle(y, self.scale)
            if self.interpolation == "bilinear":
                up = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
            else:
                up = F.interpolate(x, scale_factor=self.scale, mode="nearest")
        else:
            up = x
        return y + up  # a 1-channel (luma) detail broadcasts over RGB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    layers, weights = load_layers_model(a.model_dir)
    net = Compact(layers, weights).eval()
    modules = {}

    def module(variant, h, w):
        key = (variant, h, w)
        if key not in modules:
            example = torch.rand(1, 3, h, w)
            with torch.no_grad():
                traced = torch.jit.trace(net, example)
                m = torch.jit.freeze(traced.eval()) if variant == "freeze" else torch.jit.optimize_for_inference(traced.eval())
                m(example)
                m(example)
            modules[key] = m
        return modules[key]

    def verify(req):
        n, h, w, c = req["shape"]
        x = np.fromfile(req["input"], dtype=np.float32).reshape(n, h, w, c).transpose(0, 3, 1, 2).copy()
        with torch.no_grad():
            y = net(torch.from_numpy(x)).numpy()
        out = {}
        for variant in ("freeze", "optimize"):
            with torch.no_grad():
                yv = module(variant, h, w)(torch.from_numpy(x)).numpy()
            out[variant] = float(np.abs(yv - y).max())
        y.transpose(0, 2, 3, 1).astype(np.float32).tofile(req["output"])
        return {"shape": [n, y.shape[2], y.shape[3], y.shape[1]], "maxAbsDiffJit": out}

    def time_frames(req):
        h, w = req["h"], req["w"]
        m = module(req["variant"], h, w)
        x = np.random.default_rng(1).random((1, 3, h, w), dtype=np.float32)
        ms, faults = [], []
        with torch.no_grad():
            m(torch.from_numpy(x)).numpy()
            for _ in range(req["n"]):
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0 = time.perf_counter()
                m(torch.from_numpy(x)).numpy()
                ms.append((time.perf_counter() - t0) * 1000)
                faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        return {"ms": ms, "faults": faults}

    def sgemm(req):
        n, reps = req.get("n", 1024), req.get("reps", 20)
        x = torch.rand(n, n)
        y = torch.rand(n, n)
        torch.mm(x, y)
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            torch.mm(x, y)
            best = min(best, time.perf_counter() - t0)
        return {"gflops": 2 * n ** 3 / best / 1e9}

    hello = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(),
             "scale": net.scale, "interpolation": net.interpolation, "convs": len(net.convs)}
    serve(hello, {"verify": verify, "time": time_frames, "sgemm": sgemm})

if __name__ == "__main__":
    main()
