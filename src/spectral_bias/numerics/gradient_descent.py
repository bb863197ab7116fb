"""Explicit full-batch gradient descent of an affine per-σ denoiser D(x) = W x + b on actual samples (numpy).

The independent check of eq. (7) and of Gaussian equivalence (Lemma C.1): the gradient is computed from the
samples at every step, never from their moments.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import NamedTuple

import numpy as np

from ..theory.validation import check_choice, check_finite, check_positive_scalar

__all__ = ["GDTrajectory", "gd_affine_denoiser"]


def _single_blas_thread():
    """Limit BLAS to one thread: thousands of small matrix products are faster without thread hand-offs (5x on a
    busy 2-core machine). Optional dependency threadpoolctl; without it, a no-op."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class GDTrajectory(NamedTuple):
    """Recorded GD iterates: ``steps`` (R,), ``tau`` = steps * step_size (R,) (training time; ητ = eta*tau),
    ``W`` (R, d, d), ``b`` (R, d), ``loss`` (R,) (the training loss being minimised, at each recorded step)."""

    steps: np.ndarray
    tau: np.ndarray
    W: np.ndarray
    b: np.ndarray
    loss: np.ndarray


def gd_affine_denoiser(
    x0,
    sigma,
    *,
    eta=1.0,
    step_size,
    n_steps,
    record_steps=None,
    w0=None,
    b0=None,
    noise="expected",
    n_noise=1,
    seed=0,
    fit_bias=True,
):
    """Full-batch gradient descent on L(W, b) = mean_i ||W(x_i + σ z_i) + b - x_i||² over the samples ``x0``.

    The gradient-flow time per step is ``step_size``, so one step is Θ <- Θ - eta * step_size * ∇L and the
    recorded ``tau`` = step * step_size (compare with eq. (7) at that τ; the discretisation error of the iterate
    is O(eta * step_size * rate) relative, since each mode contracts by 1 - 2 eta h ν instead of exp(-2 eta h ν)).

    Parameters
    ----------
    x0 : (n, d) data samples.
    sigma : noise level (> 0).
    noise : "expected" — the exact expectation over z for each sample (the ridge view, §2.3:
        mean_i ||(W - I)x_i + b||² + σ²||W||_F²); "sampled" — ``n_noise`` fixed noise draws per sample (seeded).
    record_steps : iterable of step indices to record (default: 0 and n_steps).
    w0, b0 : initial values (default 0). fit_bias : if False, b stays at b0.
    Raises ValueError on bad shapes or values.
    """
    x = check_finite(x0, "x0")
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (n_samples, d), got {x.shape}")
    n, d = x.shape
    sigma = check_positive_scalar(sigma, "sigma")
    eta = check_positive_scalar(eta, "eta")
    h = check_positive_scalar(step_size, "step_size")
    check_choice(noise, "noise", {"expected", "sampled"})
    rec = _recorded_steps(n_steps, record_steps)
    W = np.zeros((d, d)) if w0 is None else check_finite(w0, "w0").copy()
    b = np.zeros(d) if b0 is None else check_finite(b0, "b0").copy()
    if W.shape != (d, d) or b.shape != (d,):
        raise ValueError(f"w0 must have shape ({d}, {d}) and b0 ({d},), got {W.shape} and {b.shape}")
    y, xin = _training_pairs(x, sigma, noise, n_noise, seed)
    lr = eta * h

    def update(_, grads):
        np.subtract(W, lr * grads[0], out=W)
        if fit_bias:
            np.subtract(b, lr * grads[1], out=b)

    records = _descend_and_record(
        lambda: _affine_loss_and_grad(W, b, xin, y, sigma, noise == "expected"),
        lambda: (W.copy(), b.copy()),
        update,
        n_steps,
        rec,
    )
    steps = rec.astype(float)
    W_rec, b_rec = (np.array([state[i] for state, _ in records]) for i in (0, 1))
    return GDTrajectory(rec, steps * h, W_rec, b_rec, np.array([loss for _, loss in records]))


def _recorded_steps(n_steps, record_steps):
    """The sorted unique step indices to record (default 0 and ``n_steps``), checked to lie in [0, n_steps]; shared
    by the explicit trainers (this module, linear_training). Raises ValueError naming n_steps or record_steps."""
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    rec = np.unique(np.asarray([0, n_steps] if record_steps is None else list(record_steps), dtype=int))
    if rec.size == 0 or rec[0] < 0 or rec[-1] > n_steps:
        raise ValueError(f"record_steps must lie in [0, n_steps={n_steps}]")
    return rec


def _descend_and_record(loss_and_grad, snapshot, update, n_steps, rec):
    """The training loop of the explicit trainers: for step = 0, ..., n_steps evaluate ``loss_and_grad()`` -> (loss,
    grad), record (``snapshot()``, loss) at the steps in ``rec``, and (except after the last) call ``update(step,
    grad)``, which changes the parameters in place. BLAS limited to one thread. Returns the list of records."""
    records = []
    rec_set = set(rec.tolist())
    with _single_blas_thread():
        for step in range(n_steps + 1):
            loss, grad = loss_and_grad()
            if step in rec_set:
                records.append((snapshot(), loss))
            if step == n_steps:
                break
            update(step, grad)
    return records


def _training_pairs(x, sigma, noise, n_noise, seed):
    """(targets, inputs) of the denoising regression: (x, x) for the exact noise expectation, or ``n_noise`` seeded
    noisy copies x + σ z of every sample with their clean targets for noise="sampled"."""
    if noise != "sampled":
        return x, x
    if isinstance(n_noise, bool) or not isinstance(n_noise, (int, np.integer)) or n_noise < 1:
        raise ValueError(f"n_noise must be a positive integer, got {n_noise!r}")
    rng = np.random.default_rng(seed)
    y = np.tile(x, (n_noise, 1))
    return y, y + sigma * rng.standard_normal(y.shape)


def _affine_loss_and_grad(W, b, xin, y, sigma, expected):
    """Loss mean_i ||W xin_i + b - y_i||² (+ σ²||W||_F², the exact noise expectation, if ``expected``) and its
    gradients (loss, (∂W, ∂b))."""
    m = xin.shape[0]
    r = xin @ W.T + b - y  # residuals (m, d)
    loss = np.vdot(r, r) / m
    gW = 2.0 * r.T @ xin / m
    gb = 2.0 * r.mean(axis=0)
    if expected:  # + σ² ||W||_F² from E_z
        loss += sigma**2 * np.sum(W * W)
        gW += 2.0 * sigma**2 * W
    return loss, (gW, gb)
