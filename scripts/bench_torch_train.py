#!/usr/bin/env python3
"""PyTorch side of scripts/bench-train-vs-pytorch.ts: one training step of a compact student, timed in PyTorch.

Builds the student of a sharpen-kd run config in torch (NCHW), with the same parameters as TF.js (kernels kept in
TF's HWIO layout and permuted to OIHW in the forward pass), and the same training step as sharpen-kd's `train()`:

  forward:  [RepConv2D + PReLU] * (depth + 1) -> RepConv2D to C*r*r -> pixel shuffle -> + upsample(input)
            RepConv2D (reparam) merges its branches into one 3x3 kernel on every call, as src/models/layers/rep-conv.ts
            does: 3x3 + 1x1 + (1x1 expand -> 3x3) + sum over {Sobel-x, Sobel-y, Laplacian} of (1x1 * scale) x edge filter
  loss:     L1 (mean |a - b|), on BT.601 studio-range Y for pixel space 'y', else on RGB
  update:   global-norm clipping (torch.nn.utils.clip_grad_norm_), torch.optim.Adam (betas 0.9, 0.999, eps 1e-8),
            weight EMA  ema = d*ema + (1-d)*w,  d = min(decay, (1 + t) / (10 + t)), on the trainable weights
  and the loss read back to the host (sharpen-kd reads the loss and the gradient norm every step).

Serves requests from the Node script, one JSON object per line on stdin, one JSON answer per line on stdout:

  {"cmd": "init", "weights": path, "manifest": [[name, shape], ...]}
      loads the TF.js initial weights (float32, concatenated in manifest order) and creates Adam and the EMA
  {"cmd": "steps", "lr": path, "hr": path, "batches": k, "rate": 1e-3}
      k training steps on the NHWC float32 batches in the two files; answers the loss and gradient norm of each and
      the sum of the EMA weights (a correctness check against sharpen-kd's step)
  {"cmd": "time", "n": 10}
      times n training steps on a fixed random batch: wall and process CPU ms of each
  {"cmd": "quit"}

Needs Debian's python3-torch (run with /usr/bin/python3) and numpy; not a dependency of sharpen-kd.

Usage: /usr/bin/python3 scripts/bench_torch_train.py --config '{"scale": 4, "width": 16, ...}' --threads 2
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_lines import serve

EDGE_FILTERS = {
    "sobelX": [1, 0, -1, 2, 0, -2, 1, 0, -1],
    "sobelY": [1, 2, 1, 0, 0, 0, -1, -2, -1],
    "laplacian": [0, 1, 0, 1, -4, 1, 0, 1, 0],
}
Y_WEIGHTS = [65.481 / 255, 128.553 / 255, 24.966 / 255]


class RepConv(torch.nn.Module):
    """RepConv2D: the branch weights in TF layouts, merged into one 3x3 kernel per call."""

    def __init__(self, cin, cout, expand=2, reparam=True):
        super().__init__()
        self.reparam = reparam
        mid = cout * expand
        self.kernel = torch.nn.Parameter(torch.randn(3, 3, cin, cout) * (2 / (9 * cin)) ** 0.5)
        self.bias = torch.nn.Parameter(torch.zeros(cout))
        if reparam:
            self.k1x1 = torch.nn.Parameter(torch.randn(cin, cout) * 0.1 / cin ** 0.5)
            self.expand = torch.nn.Parameter(torch.randn(cin, mid) * (2 / cin) ** 0.5)
            self.squeeze = torch.nn.Parameter(torch.randn(3, 3, mid, cout) * 0.1 / (9 * mid) ** 0.5)
            self.edge = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(cin, cout) * (2 / cin) ** 0.5) for _ in EDGE_FILTERS])
            self.scale = torch.nn.ParameterList([torch.nn.Parameter(torch.full((cout,), 1e-3)) for _ in EDGE_FILTERS])
            self.register_buffer("masks", torch.tensor([EDGE_FILTERS[e] for e in EDGE_FILTERS], dtype=torch.float32).reshape(3, 3, 3, 1, 1))

    def tf_params(self, prefix):
        """(TF.js weight name, parameter) pairs in the order RepConv2D.build adds them."""
        if not self.reparam:
            return [(f"{prefix}/kernel", self.kernel), (f"{prefix}/bias", self.bias)]
        out = [(f"{prefix}/kernel", self.kernel), (f"{prefix}/bias", self.bias), (f"{prefix}/k1x1", self.k1x1), (f"{prefix}/expand", self.expand), (f"{prefix}/squeeze", self.squeeze)]
        out += [(f"{prefix}/{e}_1x1", p) for e, p in zip(EDGE_FILTERS, self.edge)]
        out += [(f"{prefix}/{e}_scale", p) for e, p in zip(EDGE_FILTERS, self.scale)]
        return out

    def merged(self):
        k = self.kernel
        if not self.reparam:
            return k
        cin, cout = self.k1x1.shape
        k = k + F.pad(self.k1x1.reshape(1, 1, cin, cout), (0, 0, 0, 0, 1, 1, 1, 1))
        k = k + torch.einsum("im,yxmo->yxio", self.expand, self.squeeze)
        for j in range(len(self.edge)):
            k = k + self.masks[j] * (self.edge[j] * self.scale[j]).reshape(1, 1, cin, cout)
        return k

    def forward(self, x):
        return F.conv2d(x, self.merged().permute(3, 2, 0, 1), self.bias, padding=1)


class CompactTrain(torch.nn.Module):
    """The compact student of src/models/compact.ts (no unshuffle front end)."""

    def __init__(self, scale, width, depth, detail, interpolation, reparam):
        super().__init__()
        self.scale = scale
        self.interpolation = interpolation
        channels = 1 if detail == "luma" else 3
        self.convs = torch.nn.ModuleList([RepConv(3 if i == 0 else width, width, reparam=reparam) for i in range(depth + 1)])
        self.prelus = torch.nn.ModuleList([torch.nn.PReLU(width, init=0.25) for _ in range(depth + 1)])
        self.last = RepConv(width, channels * scale * scale, reparam=reparam)

    def tf_params(self):
        out = []
        for i, (conv, prelu) in enumerate(zip(self.convs, self.prelus)):
            out += conv.tf_params(f"body{i}")
            out.append((f"body{i}_prelu/alpha", prelu.weight))
        return out + self.last.tf_params("subpixel_conv")

    def forward(self, x):
        y = x
        for conv, prelu in zip(self.convs, self.prelus):
            y = prelu(conv(y))
        y = self.last(y)
        if self.scale > 1:
            y = F.pixel_shuffle(y, self.scale)  # TF's depthToSpace order for 1 channel; for 3 only up to a fixed permutation
            up = F.interpolate(x, scale_factor=self.scale, mode=self.interpolation, **({"align_corners": False} if self.interpolation == "bilinear" else {}))
        else:
            up = x
        return y + up


def to_y(x):
    w = torch.tensor(Y_WEIGHTS, dtype=x.dtype).reshape(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True) + 16 / 255


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="JSON: scale, width, depth, detail, interpolation, reparam, batch, patch, pixelSpace, clip, ema")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    c = json.loads(a.config)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(1)
    net = CompactTrain(c["scale"], c["width"], c["depth"], c["detail"], c["interpolation"], c["reparam"])
    named = net.tf_params()
    params = [p for _, p in named]
    if len(params) != len(list(net.parameters())):
        raise SystemExit("parameter list mismatch")
    state = {}

    def reset():
        state["opt"] = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        state["ema"] = [p.detach().clone() for p in params]
        state["count"] = 0

    reset()

    def loss_of(out, hr):
        if c["pixelSpace"] == "y":
            return (to_y(out) - to_y(hr)).abs().mean()
        return (out - hr).abs().mean()

    def step(lr_batch, hr_batch, rate):
        opt = state["opt"]
        for g in opt.param_groups:
            g["lr"] = rate
        opt.zero_grad(set_to_none=True)
        loss = loss_of(net(lr_batch), hr_batch)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, c["clip"]) if c["clip"] > 0 else torch.zeros(())
        opt.step()
        if c["ema"] > 0:
            state["count"] += 1
            d = min(c["ema"], (1 + state["count"]) / (10 + state["count"]))
            with torch.no_grad():
                torch._foreach_mul_(state["ema"], d)
                torch._foreach_add_(state["ema"], [p.detach() for p in params], alpha=1 - d)
        return loss.item(), float(norm)

    b, p, s = c["batch"], c["patch"], c["scale"]

    def init(req):
        names = [n for n, _ in named]
        if [m[0] for m in req["manifest"]] != names:
            return {"error": f"weight names differ: torch {names[:6]}..., TF.js {[m[0] for m in req['manifest']][:6]}..."}
        flat = np.fromfile(req["weights"], dtype=np.float32)
        off = 0
        with torch.no_grad():
            for (_, shape), prm in zip(req["manifest"], params):
                n = int(np.prod(shape)) if shape else 1
                prm.copy_(torch.from_numpy(flat[off:off + n].copy()).reshape(prm.shape))
                off += n
        reset()
        return {"loaded": off}

    def steps(req):
        k = req["batches"]
        lr_all = np.fromfile(req["lr"], dtype=np.float32).reshape(k, b, p, p, 3).transpose(0, 1, 4, 2, 3)
        hr_all = np.fromfile(req["hr"], dtype=np.float32).reshape(k, b, p * s, p * s, 3).transpose(0, 1, 4, 2, 3)
        out = [step(torch.from_numpy(lr_all[i].copy()), torch.from_numpy(hr_all[i].copy()), req["rate"]) for i in range(k)]
        return {"loss": [o[0] for o in out], "gradNorm": [o[1] for o in out], "emaSum": float(sum(e.double().sum() for e in state["ema"]))}

    def time_steps(req):
        g = torch.Generator().manual_seed(2)
        lr_batch = torch.rand(b, 3, p, p, generator=g)
        hr_batch = torch.rand(b, 3, p * s, p * s, generator=g)
        ms, cpu = [], []
        for _ in range(req["n"]):
            t0, c0 = time.perf_counter(), time.process_time()
            step(lr_batch, hr_batch, 1e-4)
            ms.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        return {"ms": ms, "cpuMs": cpu}

    hello = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "parameters": sum(q.numel() for q in params), "variables": len(params)}
    serve(hello, {"init": init, "steps": steps, "time": time_steps})

if __name__ == "__main__":
    main()
