"""Benchmark: deep-linear, flow-matching and convolution theory (issue 4) on book-sized grids.

Run from the repository root (single thread):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=src python scripts/bench_deep.py

Prints the best-of-3 wall time of each call. Grids: 3072 modes x 1000 times for the closed forms; 100 x 100 for the
depth-3 quadrature; a 32 x 32 Fourier spectrum x 100 times for the patch models.
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from spectral_bias import theory  # noqa: E402


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    lam = np.logspace(-6, 2, 3072)[:, None]
    tau = np.logspace(-4, 4, 1000)
    lam_s, tau_s = np.logspace(-3, 2, 100)[:, None], np.logspace(-4, 4, 100)
    k = np.fft.fftfreq(32)
    lam_f = 1.0 / (1e-3 + np.hypot(*np.meshgrid(k, k, indexing="ij")) ** 2.8)  # natural-image-like spectrum
    cases = {
        "two_layer_generated_variance 3072x1000": lambda: theory.two_layer_generated_variance(lam, tau, q=0.1),
        "flow_matching_generated_variance 3072x1000": lambda: theory.flow_matching_generated_variance(lam, tau, q=0.1),
        "eps_prediction_generated_variance 3072x1000": lambda: theory.eps_prediction_generated_variance(lam, tau),
        "deep_linear_weight depth=3, 3072x1000": lambda: theory.deep_linear_weight(lam, 0.5, tau, q=0.1, depth=3),
        "deep_linear_generated_variance depth=3, 100x100": lambda: theory.deep_linear_generated_variance(
            lam_s, tau_s, q=0.1, depth=3
        ),
        "preconditioned_generated_variance 100x100": lambda: theory.preconditioned_generated_variance(lam_s, tau_s),
        "circulant_generated_variance 32x32 x 1000": lambda: theory.circulant_generated_variance(lam_f, tau, q=0.1),
    }
    for P in (3, 9, 15):
        cases[f"patch_generated_variance P={P}, 32x32 x 100"] = lambda P=P: theory.patch_generated_variance(
            lam_f, P, tau_s, q=0.1
        )
    for name, fn in cases.items():
        print(f"{name:55s} {best_of(fn):8.3f} s")


if __name__ == "__main__":
    main()
