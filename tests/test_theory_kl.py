"""theory.kl: the KL divergence between Gaussians, both directions, against quadrature of the densities."""

import numpy as np
import pytest
from scipy import integrate, stats

from spectral_bias.theory import kl_divergence


def _kl_1d_quad(m1, v1, m2, v2):
    p, q = stats.norm(m1, np.sqrt(v1)), stats.norm(m2, np.sqrt(v2))
    f = lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x))
    s = np.sqrt(v1)
    return integrate.quad(f, m1 - 40 * s, m1 + 40 * s, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def test_kl_both_directions_with_means_match_quadrature():
    gv, tv = np.array([0.5, 2.0, 1e-2]), np.array([1.0, 1.0, 3e-2])
    gm, tm = np.array([0.1, -0.3, 0.0]), np.array([0.0, 0.2, 0.05])
    fwd = sum(_kl_1d_quad(gm[k], gv[k], tm[k], tv[k]) for k in range(3))
    rev = sum(_kl_1d_quad(tm[k], tv[k], gm[k], gv[k]) for k in range(3))
    assert kl_divergence(gv, tv, generated_mean=gm, target_mean=tm) == pytest.approx(fwd, rel=1e-8)
    assert kl_divergence(gv, tv, direction="data||generated", generated_mean=gm, target_mean=tm) == pytest.approx(
        rev, rel=1e-8
    )


def test_kl_sums_over_modes_axis_and_is_zero_at_equality():
    v = np.random.default_rng(0).uniform(0.1, 2, (5, 7))
    assert kl_divergence(v, v).shape == (7,)
    assert np.allclose(kl_divergence(v, v), 0.0, atol=1e-15)
