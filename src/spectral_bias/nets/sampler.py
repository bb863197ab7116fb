"""Deterministic Heun sampler of the probability-flow ODE on the EDM σ schedule (EDM Alg. 1 with
S_churn = 0), as used for sampling in App. I.4.3 of Wang & Pehlevan (2025)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

from ..theory.constants import SIGMA_MAX, SIGMA_MIN

__all__ = ["edm_sigma_steps", "heun_sample", "heun_sample_batched"]


def edm_sigma_steps(
    num_steps: int,
    sigma_min: float = SIGMA_MIN,
    sigma_max: float = SIGMA_MAX,
    rho: float = 7.0,
) -> torch.Tensor:
    """EDM time steps σ_i = (σ_max^{1/ρ} + i/(N−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0..N−1, followed by
    σ_N = 0 (EDM eq. 5). Returns float64 tensor of shape (num_steps + 1,).

    Raises ValueError if num_steps < 2, sigma_min <= 0, sigma_min >= sigma_max, rho <= 0 or non-finite input.
    """
    if int(num_steps) < 2:
        raise ValueError(f"num_steps must be >= 2, got {num_steps}")
    if not all(math.isfinite(v) for v in (sigma_min, sigma_max, rho)):
        raise ValueError("sigma_min, sigma_max and rho must be finite")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}")
    if rho <= 0:
        raise ValueError(f"rho must be > 0, got {rho}")
    i = torch.arange(num_steps, dtype=torch.float64)
    t = (sigma_max ** (1 / rho) + i / (num_steps - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([t, torch.zeros(1, dtype=torch.float64)])


@torch.no_grad()
def heun_sample(
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], noise: torch.Tensor, sigmas: torch.Tensor
) -> torch.Tensor:
    """Integrate dx/dσ = (x − D(x; σ))/σ (eq. 1) from x = σ_0 · noise down the schedule ``sigmas``
    (decreasing, last entry 0), with Heun's 2nd-order correction on every step but the last (Euler to σ=0).

    ``denoiser(x, sigma)`` receives σ as a 0-d tensor of x's dtype. noise: (B, ...) standard normal.
    Returns the samples, same shape/dtype as noise.
    """
    if sigmas.ndim != 1 or len(sigmas) < 2:
        raise ValueError("sigmas must be a 1-d tensor with at least 2 entries")
    sig = sigmas.to(noise.dtype)
    x = noise * sig[0]
    for i in range(len(sig) - 1):
        t, t_next = sig[i], sig[i + 1]
        d = (x - denoiser(x, t)) / t
        x_next = x + (t_next - t) * d
        if t_next > 0:
            d2 = (x_next - denoiser(x_next, t_next)) / t_next
            x_next = x + (t_next - t) * 0.5 * (d + d2)
        x = x_next
    return x


def heun_sample_batched(
    denoiser,
    noise: torch.Tensor,
    sigmas: torch.Tensor,
    batch_size: int = 1024,
) -> Iterator[torch.Tensor]:
    """Yield samples of ``heun_sample`` for consecutive chunks of a fixed noise bank (N, ...), so the caller
    can measure them as they stream out. Raises ValueError if batch_size < 1."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, noise.shape[0], batch_size):
        yield heun_sample(denoiser, noise[start : start + batch_size], sigmas)
