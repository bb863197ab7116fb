"""KL divergence between the generated and the data Gaussian, both diagonal in the data eigenbasis (§3.6).

D_KL(N(m_g, diag λ̂) || N(m_d, diag λ)) = ½ Σ_k [λ̂_k/λ_k - 1 - ln(λ̂_k/λ_k) + (m_g,k - m_d,k)²/λ_k].
(The paper's App. C.6 formula could not be read; this is the standard Gaussian KL.)
"""

from __future__ import annotations

import numpy as np

from .validation import check_choice, check_finite, check_positive

__all__ = ["kl_divergence"]


def kl_divergence(
    generated_var, target_var, *, direction="generated||data", generated_mean=None, target_mean=None, axis=0
):
    """KL divergence between N(generated_mean, diag generated_var) and N(target_mean, diag target_var).

    ``direction``: "generated||data" = KL(generated ‖ data) or "data||generated" = KL(data ‖ generated).
    Variances (> 0) are per-mode values in a common eigenbasis and broadcast together; means (optional, default
    equal) are the per-mode coordinates u_kᵀm. The sum runs over ``axis`` (default 0, the modes axis of a
    (modes, times) array), so a (d, T) input gives a (T,) KL curve. Raises ValueError for non-positive variances,
    unknown ``direction`` or shapes that do not broadcast.
    """
    check_choice(direction, "direction", {"generated||data", "data||generated"})
    g = check_positive(generated_var, "generated_var")
    t = check_positive(target_var, "target_var")
    try:
        g, t = np.broadcast_arrays(g, t)
    except ValueError as exc:
        raise ValueError(f"generated_var {np.shape(g)} and target_var {np.shape(t)} do not broadcast") from exc
    p, r = (g, t) if direction == "generated||data" else (t, g)  # KL(p || r)
    ratio = p / r
    terms = ratio - 1.0 - np.log(ratio)
    if generated_mean is not None or target_mean is not None:
        gm = check_finite(0.0 if generated_mean is None else generated_mean, "generated_mean")
        tm = check_finite(0.0 if target_mean is None else target_mean, "target_mean")
        try:
            terms = terms + (gm - tm) ** 2 / r
        except ValueError as exc:
            raise ValueError("generated_mean/target_mean do not broadcast with the variances") from exc
    return 0.5 * np.sum(terms, axis=axis)
