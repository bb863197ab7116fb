"""Benchmark of the neural-denoiser stack on the CPU (or --device cuda).

    PYTHONPATH=src python scripts/bench_nets.py [--device cpu] [--threads 2] [--out bench_nets.json]

Reports training steps/s and sampled images/s (Heun, 20 steps = 39 network evaluations per image) for
MLP-UNets and a narrow and a wide convolutional UNet, with the sampler's speed-up from computing the noise
embedding once per step instead of once per sample (side by side, same model and noise), and the peak memory
(tracemalloc) of the streaming
spectral measurement of a 3072-d run (n < d: sample-space Gram; n > d: d×d scatter).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np
import torch

from spectral_bias.experiments.measure import SpectralAccumulator
from spectral_bias.nets import ConvUNet, EDMPrecond, MLPUNet, edm_loss, edm_sigma_steps, heun_sample


def bench_model(name, net, shape, batch, n_sample, device, n_steps=20):
    model = EDMPrecond(net).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    x = torch.randn((batch,) + shape, device=device)
    for i in range(n_steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        loss = edm_loss(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    steps_s = n_steps / (time.perf_counter() - t0)
    z = torch.randn((n_sample,) + shape, device=device)
    sig = edm_sigma_steps(20).to(device)
    model.eval()

    def per_sample(x, s):  # the sampler before the shared-embedding path: σ (and its embedding) per sample
        return model(x, s.expand(x.shape[0]))

    rates = {}
    for label, den in (("shared", model), ("per_sample", per_sample)):
        best = float("inf")
        for _ in range(2):  # best of two: the machine is shared
            t0 = time.perf_counter()
            heun_sample(den, z, sig)
            if device.type == "cuda":
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        rates[label] = n_sample / best
    n_par = sum(p.numel() for p in model.parameters())
    return dict(
        model=name,
        params=n_par,
        batch=batch,
        train_steps_per_s=round(steps_s, 2),
        sampled_images_per_s=round(rates["shared"], 1),
        sampled_images_per_s_per_sample_embedding=round(rates["per_sample"], 1),
        sampler_speedup=round(rates["shared"] / rates["per_sample"], 2),
    )


def bench_measure(d=3072, n=2000, chunk=500, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mu = np.zeros(d)
    x = rng.standard_normal((n, d)).astype(np.float32)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    acc = SpectralAccumulator(U, mu)
    for i in range(0, n, chunk):
        acc.update(x[i : i + chunk])
    acc.result()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return dict(
        d=d,
        n=n,
        seconds=round(dt, 2),
        peak_MB=round(peak / 2**20, 1),
        samples_MB=round(x.nbytes / 2**20, 1),
        eigenbasis_MB=round(U.nbytes / 2**20, 1),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    rows = [
        bench_model(
            "MLP-UNet 512-d, 5x256 (paper Gaussian d=512), batch 1024",
            MLPUNet(512, 5, 256, 256),
            (512,),
            1024,
            1000,
            dev,
            n_steps=10,
        ),
        bench_model(
            "MLP-UNet 784-d, 3x256 (cpu-mnist-mlp size at 28x28)", MLPUNet(784, 3, 256, 64), (784,), 128, 500, dev
        ),
        bench_model(
            "MLP-UNet 784-d, 8x1024 (paper MNIST)", MLPUNet(784, 8, 1024, 128), (784,), 128, 50, dev, n_steps=5
        ),
        bench_model(
            "conv UNet narrow (4 ch, mult 1,2) 16x16",
            ConvUNet(1, 16, 4, (1, 2), 1, (), 32),
            (1, 16, 16),
            64,
            100,
            dev,
            n_steps=10,
        ),
        bench_model(
            "conv UNet wide (32 ch, mult 1,2) 16x16",
            ConvUNet(1, 16, 32, (1, 2), 1, (), 32),
            (1, 16, 16),
            64,
            100,
            dev,
            n_steps=10,
        ),
    ]
    meas = [bench_measure(3072, 2000), bench_measure(3072, 4000)]
    out = dict(device=str(dev), threads=a.threads, torch=torch.__version__, models=rows, measurement=meas)
    print(json.dumps(out, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
