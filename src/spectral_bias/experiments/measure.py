"""Streaming spectral measurement of generated samples (protocol of §7.1 / App. I of Wang & Pehlevan 2025).

For generated samples x_i (n, d) with sample covariance Σ̂ (divisor n−1) and the data eigenbasis U (d, d):
  * generated variance along every data eigenvector  gen_var_k = u_kᵀ Σ̂ u_k = diag(Uᵀ Σ̂ U),
  * mean error ‖mean(x) − μ_data‖²,
  * eigenframe alignment score χ = Σ_k (UᵀΣ̂U)_kk² / Σ_ij (UᵀΣ̂U)_ij² = Σ_k gen_var_k² / ‖Σ̂‖_F²
    (U orthogonal, so the Frobenius norm needs no rotation).
Chunks are projected as they arrive; ‖Σ̂‖_F² = ‖X_cᵀX_c‖_F²/(n−1)² is computed as ‖X_c X_cᵀ‖_F² blockwise in
sample space when n < d, so no d×d matrix is formed per snapshot then (when n >= d a d×d scatter is
accumulated instead and dropped after the snapshot).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SpectralAccumulator", "extract_patches", "measure_samples"]


class SpectralAccumulator:
    """Accumulate generated samples chunk by chunk and return the spectral summary.

    Args:
        eigenvectors: U, (d, d) orthonormal columns (data eigenbasis).
        mean: μ_data, (d,). Samples are shifted by μ_data before projection (reduces cancellation).
    ``update(x)`` takes (b, d) arrays (or anything reshapeable to (b, d)); ``result()`` returns a dict with
    gen_var (d,), gen_mean (d,), mean_err, frob2 = ‖Σ̂‖_F², chi, n. Raises ValueError on shape mismatch or
    fewer than 2 samples.
    """

    def __init__(self, eigenvectors: np.ndarray, mean: np.ndarray):
        U = np.asarray(eigenvectors, dtype=np.float64)
        mu = np.asarray(mean, dtype=np.float64)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise ValueError(f"eigenvectors must be a square (d, d) matrix, got {U.shape}")
        if mu.shape != (U.shape[0],):
            raise ValueError(f"mean must have shape ({U.shape[0]},), got {mu.shape}")
        self.U, self.mu, self.d = U, mu, U.shape[0]
        self.n = 0
        self.sum_y = np.zeros(self.d)
        self.sum_p = np.zeros(self.d)
        self.sum_p2 = np.zeros(self.d)
        self.chunks: list[np.ndarray] = []

    def update(self, x) -> None:
        y = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if y.shape[1] != self.d:
            raise ValueError(f"samples must have {self.d} features, got {y.shape[1]}")
        y = y - self.mu
        p = y @ self.U
        self.n += len(y)
        self.sum_y += y.sum(0)
        self.sum_p += p.sum(0)
        self.sum_p2 += (p * p).sum(0)
        self.chunks.append(y.astype(np.float32))

    def _frob2_scatter(self, m: np.ndarray) -> float:
        """‖Σ_i (y_i − m)(y_i − m)ᵀ‖_F², from sample-space Gram blocks (n < d) or a d×d scatter."""
        cs = [c.astype(np.float64) - m for c in self.chunks]
        if self.n < self.d:
            return float(sum(np.sum((a @ b.T) ** 2) for a in cs for b in cs))
        S = sum(c.T @ c for c in cs)
        return float(np.sum(S * S))

    def result(self) -> dict:
        n = self.n
        if n < 2:
            raise ValueError(f"need at least 2 samples, got {n}")
        m = self.sum_y / n
        pm = self.sum_p / n
        gen_var = (self.sum_p2 - n * pm * pm) / (n - 1)
        frob2 = self._frob2_scatter(m) / (n - 1) ** 2
        chi = float(np.sum(gen_var**2) / frob2) if frob2 > 0 else float("nan")
        return dict(gen_var=gen_var, gen_mean=m + self.mu, mean_err=float(np.sum(m**2)), frob2=frob2, chi=chi, n=n)


def measure_samples(samples, eigenvectors, mean, chunk: int = 1024) -> dict:
    """Convenience: run a SpectralAccumulator over samples (n, d) in chunks. See SpectralAccumulator."""
    acc = SpectralAccumulator(eigenvectors, mean)
    samples = np.asarray(samples)
    for i in range(0, len(samples), chunk):
        acc.update(samples[i : i + chunk])
    return acc.result()


def extract_patches(x, size: int, stride: int) -> np.ndarray:
    """All size×size patches at the given stride from images (N, C, H, W), flattened to (N·P, C·size·size)
    (channel-major, like ``torch.nn.functional.unfold``). Raises ValueError on bad sizes."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {x.shape}")
    if not (1 <= size <= min(x.shape[2:])) or stride < 1:
        raise ValueError(f"need 1 <= size <= image side and stride >= 1, got size={size}, stride={stride}")
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    # (N, C, nh, nw, s, s) → (N, nh, nw, C, s, s)
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(-1, x.shape[1] * size * size)
