"""Streaming spectral measurement against a brute-force covariance; patches against torch.unfold; data."""

import numpy as np
import pytest
import torch

from spectral_bias.experiments import (
    SpectralAccumulator,
    empirical_spectrum,
    extract_patches,
    measure_samples,
    rotated_gaussian,
    snapshot_steps,
)


def _brute(x, U, mu):
    C = np.cov(x.T)  # d×d, divisor n−1
    M = U.T @ C @ U
    return np.diag(M), np.sum(np.diag(M) ** 2) / np.sum(M**2), np.sum((x.mean(0) - mu) ** 2)


@pytest.mark.parametrize("n,d,chunk", [(50, 80, 7), (300, 20, 64)])  # n < d (sample-space Gram) and n > d
def test_streaming_equals_bruteforce(n, d, chunk):
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mu = rng.standard_normal(d)
    x = (rng.standard_normal((n, d)) * np.linspace(2, 0.1, d)) @ rng.standard_normal((d, d)) / 3 + 2.0
    r = measure_samples(x.astype(np.float32), U, mu, chunk=chunk)
    gv, chi, me = _brute(x.astype(np.float32).astype(np.float64), U, mu)
    # float32 storage of the chunks: relative error ~1e-6; float64 accumulation
    np.testing.assert_allclose(r["gen_var"], gv, rtol=1e-5, atol=1e-7)
    assert r["chi"] == pytest.approx(chi, rel=1e-5)
    assert r["mean_err"] == pytest.approx(me, rel=1e-6)
    assert 0 < r["chi"] <= 1


def test_chi_is_one_iff_diagonal_in_U():
    rng = np.random.default_rng(1)
    d, n = 6, 4000
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    x = (rng.standard_normal((n, d)) * np.arange(1, d + 1)) @ U.T  # covariance diagonal in U (up to sampling)
    assert measure_samples(x, U, np.zeros(d))["chi"] > 0.99
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    assert measure_samples(x, V, np.zeros(d))["chi"] < 0.9


def test_accumulator_errors():
    acc = SpectralAccumulator(np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="features"):
        acc.update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        acc.result()
    with pytest.raises(ValueError, match="square"):
        SpectralAccumulator(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="mean"):
        SpectralAccumulator(np.eye(3), np.zeros(2))


def test_extract_patches_matches_unfold():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)
    p = extract_patches(x, 4, 2)
    ref = torch.nn.functional.unfold(torch.from_numpy(x), 4, stride=2)  # (N, C·16, L)
    np.testing.assert_array_equal(p, ref.transpose(1, 2).reshape(-1, 48).numpy())
    with pytest.raises(ValueError, match="size"):
        extract_patches(x, 10, 1)
    with pytest.raises(ValueError, match="shape"):
        extract_patches(x[0], 2, 1)


def test_rotated_gaussian_spectrum():
    x, lam, R = rotated_gaussian(16, 20000, seed=3)
    assert x.dtype == np.float32 and x.shape == (20000, 16)
    np.testing.assert_allclose(R.T @ R, np.eye(16), atol=1e-12)
    assert lam.mean() == pytest.approx(1.0) and np.all(np.diff(lam) <= 0)
    # variance along u_k from 20000 samples: relative sd sqrt(2/n) = 0.01; 5 sd
    v = np.var(x.astype(np.float64) @ R, axis=0, ddof=1)
    assert np.all(np.abs(v / lam - 1) < 5 * np.sqrt(2 / 20000))
    with pytest.raises(ValueError, match="positive"):
        rotated_gaussian(0, 10)


def test_empirical_spectrum_reconstructs_covariance():
    x = np.random.default_rng(0).standard_normal((100, 5)) @ np.diag([3, 2, 1, 0.5, 0.1])
    s = empirical_spectrum(x)
    np.testing.assert_allclose(s.eigenvectors @ np.diag(s.eigenvalues) @ s.eigenvectors.T, np.cov(x.T), atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        empirical_spectrum(x[:1])


def test_snapshot_steps():
    s = snapshot_steps(1000, 12)
    assert s[0] == 0 and s[-1] == 1000 and np.all(np.diff(s) > 0)
    r = np.diff(np.log(s[2:]))  # log-spaced: ratios of consecutive steps nearly constant late on
    assert np.std(r[-5:]) < 0.05
    with pytest.raises(ValueError, match="n_snapshots"):
        snapshot_steps(10, 1)
