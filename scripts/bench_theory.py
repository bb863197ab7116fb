"""Benchmark: closed-form generated variance (Prop. 4.2) on a 3072-mode x 1000-time grid vs quadrature.

Run from the repository root (single thread, as the goal is stated for one core):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=src python scripts/bench_theory.py

Prints the best-of-N wall time of the closed form on the full grid, the per-point cost of Gauss-Legendre and
adaptive (scipy.quad) quadrature on a random sample of grid points, their ratio, and the maximum relative
difference between closed form and quadrature on the sample.
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from spectral_bias.theory import (  # noqa: E402
    log_generated_variance_quadrature,
    one_layer_generated_variance,
    one_layer_log_generated_variance,
    one_layer_weight,
)


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def main(n_modes=3072, n_times=1000, q=0.1, n_sample=200, seed=0):
    lam = np.logspace(-6, 2, n_modes)[:, None]  # a CIFAR-like span of PCA variances
    tau = np.logspace(-4, 4, n_times)  # ητ from 1e-4 to 1e4
    one_layer_generated_variance(lam, tau, q=q)  # warm-up (page faults, table in cache)
    t_best, t_med = best_of(lambda: one_layer_generated_variance(lam, tau, q=q), 7)
    print(
        f"closed form  {n_modes} x {n_times} grid: best {t_best * 1e3:.1f} ms, median {t_med * 1e3:.1f} ms "
        f"({t_best / (n_modes * n_times) * 1e9:.1f} ns/point)"
    )

    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, n_modes, n_sample), rng.integers(0, n_times, n_sample)
    ls, ts = lam[i, 0], tau[j]
    t0 = time.perf_counter()
    g = log_generated_variance_quadrature(one_layer_weight, ls, ts, q=q)
    t_gauss = (time.perf_counter() - t0) / n_sample
    n_quad = min(50, n_sample)
    t0 = time.perf_counter()
    a = log_generated_variance_quadrature(one_layer_weight, ls[:n_quad], ts[:n_quad], q=q, method="quad")
    t_quad = (time.perf_counter() - t0) / n_quad
    cf = one_layer_log_generated_variance(ls, ts, q=q)
    t_cf = t_best / (n_modes * n_times)
    print(
        f"Gauss-Legendre quadrature (2048 nodes): {t_gauss * 1e6:.1f} us/point; "
        f"max |rel diff| vs closed form {np.max(np.abs(np.expm1(g - cf))):.1e}"
    )
    print(
        f"adaptive quadrature (scipy.quad, tol 1e-13): {t_quad * 1e3:.2f} ms/point; "
        f"max |rel diff| vs closed form {np.max(np.abs(np.expm1(a - cf[:n_quad]))):.1e}"
    )
    print(f"ratio per point: Gauss/closed form {t_gauss / t_cf:.0f}x, quad/closed form {t_quad / t_cf:.0f}x")
    print(
        f"full grid by Gauss-Legendre would take ~{t_gauss * n_modes * n_times:.0f} s, "
        f"by scipy.quad ~{t_quad * n_modes * n_times / 3600:.1f} h"
    )


if __name__ == "__main__":
    main()
