"""EDM preconditioning and loss against independent derivations (unit-variance conditions, quadrature)."""

import math

import numpy as np
import pytest
import torch

from spectral_bias.nets import EDMPrecond, c_in, c_noise, c_out, c_skip, edm_loss, loss_weight, sample_training_sigma

SIGMAS = torch.tensor([0.002, 0.1, 0.5, 1.3, 80.0], dtype=torch.float64)


def test_preconditioning_hand_values_at_sigma_equal_sigma_data():
    # σ = σ_d = 0.5: c_skip = 1/2, c_out = σ_d/√2, c_in = 1/(σ_d√2), c_noise = ln(0.5)/4 (worked by hand)
    s = torch.tensor(0.5, dtype=torch.float64)
    assert float(c_skip(s)) == pytest.approx(0.5, rel=1e-15)
    assert float(c_out(s)) == pytest.approx(0.5 / math.sqrt(2), rel=1e-15)
    assert float(c_in(s)) == pytest.approx(1 / (0.5 * math.sqrt(2)), rel=1e-15)
    assert float(c_noise(s)) == pytest.approx(math.log(0.5) / 4, rel=1e-15)


@pytest.mark.parametrize("sd", [0.5, 1.0])
def test_preconditioning_unit_variance_conditions(sd):
    # EDM App. B.6 design rules, derived independently of the formulas in the code:
    # (i) network input c_in (x + σ n) has unit variance when Var x = σ_d²;
    # (ii) the effective training target (x − c_skip (x + σ n)) / c_out has unit variance;
    # (iii) the loss weight makes the effective weight λ(σ) c_out² equal to 1.
    s = SIGMAS
    assert torch.allclose(c_in(s, sd) ** 2 * (sd**2 + s**2), torch.ones_like(s), rtol=1e-12)
    target_var = ((1 - c_skip(s, sd)) ** 2 * sd**2 + c_skip(s, sd) ** 2 * s**2) / c_out(s, sd) ** 2
    assert torch.allclose(target_var, torch.ones_like(s), rtol=1e-10)
    assert torch.allclose(loss_weight(s, sd) * c_out(s, sd) ** 2, torch.ones_like(s), rtol=1e-12)
    # (iv) c_skip minimises the target variance: d/dc [(1−c)² σ_d² + c² σ²] = 0
    c = c_skip(s, sd)
    assert torch.allclose(-(1 - c) * sd**2 + c * s**2, torch.zeros_like(s), atol=1e-12)


class _Linear(torch.nn.Module):
    """Backbone F(x, c) = a x + b c (records its inputs)."""

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x, cn):
        self.seen = (x.clone(), cn.clone())
        return self.a * x + self.b * cn.reshape(-1, 1)


def test_precond_wraps_backbone_as_eq7():
    x = torch.randn(5, 3, dtype=torch.float64)
    sig = torch.tensor([0.01, 0.3, 1.0, 5.0, 70.0], dtype=torch.float64)
    net = EDMPrecond(_Linear(0.7, -0.2), sigma_data=0.5)
    D = net(x, sig)
    sd2 = 0.25
    cs, co, ci = sd2 / (sig**2 + sd2), sig * 0.5 / (sig**2 + sd2).sqrt(), 1 / (sig**2 + sd2).sqrt()
    expected = cs[:, None] * x + co[:, None] * (0.7 * ci[:, None] * x - 0.2 * (sig.log() / 4)[:, None])
    assert torch.allclose(D, expected, rtol=1e-13)
    assert torch.allclose(net.backbone.seen[0], ci[:, None] * x)
    # scalar σ broadcasts to the batch
    assert torch.allclose(net(x, torch.tensor(0.3, dtype=torch.float64))[1], D[1])


class _Zero(torch.nn.Module):
    def forward(self, x, cn):
        return torch.zeros_like(x)


def test_edm_loss_matches_quadrature_for_zero_backbone():
    # F ≡ 0 ⇒ D = c_skip (x + σ n); E_n ‖D − x‖² = (1 − c_skip)² ‖x‖² + c_skip² σ² d.
    # Average of w(σ)·that over ln σ ~ N(P_mean, P_std²) by Gauss–Hermite quadrature (independent of sampling).
    torch.manual_seed(0)
    d, B = 3, 200_000
    x0 = torch.tensor([0.3, -0.8, 0.5], dtype=torch.float64)
    x = x0.expand(B, d).clone()
    g = torch.Generator().manual_seed(1)
    model = EDMPrecond(_Zero(), 0.5)
    mc = edm_loss(model, x, P_mean=-1.2, P_std=1.2, generator=g).item()
    t, w = np.polynomial.hermite_e.hermegauss(80)
    sig = np.exp(-1.2 + 1.2 * t)
    cs = 0.25 / (sig**2 + 0.25)
    wt = (sig**2 + 0.25) / (sig * 0.5) ** 2
    per = wt * ((1 - cs) ** 2 * float((x0**2).sum()) + cs**2 * sig**2 * d)
    exact = float(np.sum(w * per) / np.sqrt(2 * np.pi))
    # Monte-Carlo error of the mean of B draws is std/√B. Per-sample variance = Var_σ(conditional mean)
    # + E_σ[w² (4 (1−c)² c² σ² ‖x‖² + 2 c⁴ σ⁴ d)] (Gaussian n), again by quadrature.
    x2 = float((x0**2).sum())
    cond_var = wt**2 * (4 * (1 - cs) ** 2 * cs**2 * sig**2 * x2 + 2 * cs**4 * sig**4 * d)
    var = float(np.sum(w * (per**2 + cond_var)) / np.sqrt(2 * np.pi)) - exact**2
    std = math.sqrt(var)
    assert abs(mc - exact) < 5 * std / math.sqrt(B)


def test_training_sigma_distribution():
    g = torch.Generator().manual_seed(0)
    ls = sample_training_sigma(100_000, -1.2, 1.2, generator=g).log()
    # sample mean/std of 1e5 normal draws: errors ~ 1.2/√1e5 = 0.004
    assert abs(ls.mean().item() + 1.2) < 0.02 and abs(ls.std().item() - 1.2) < 0.02


def test_bad_inputs():
    with pytest.raises(ValueError, match="sigma_data"):
        c_skip(torch.tensor(1.0), sigma_data=-1.0)
    with pytest.raises(ValueError, match="sigma_data"):
        EDMPrecond(_Zero(), sigma_data=0.0)
    with pytest.raises(ValueError, match="P_std"):
        sample_training_sigma(4, -1.2, 0.0)
    with pytest.raises(ValueError, match="n must be"):
        sample_training_sigma(0)
    with pytest.raises(ValueError, match="sigma must be"):
        EDMPrecond(_Zero())(torch.zeros(2, 3), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        EDMPrecond(_Zero())(torch.zeros(2, 3), torch.ones(3))


def test_defaults_are_the_protocol_constants():
    # every sigma_min / sigma_max / sigma_data default in nets is theory's constant (EDM: 0.002, 80, 0.5)
    import inspect

    from spectral_bias import nets, theory

    expected = {"sigma_min": theory.SIGMA_MIN, "sigma_max": theory.SIGMA_MAX, "sigma_data": theory.SIGMA_DATA}
    seen = {k: 0 for k in expected}
    for name in nets.__all__:
        obj = getattr(nets, name)
        fn = obj.__init__ if inspect.isclass(obj) else obj
        if not callable(fn):
            continue
        params = inspect.signature(fn).parameters
        for p, value in expected.items():
            if p in params and params[p].default is not inspect.Parameter.empty:
                assert params[p].default == value, f"nets.{name}({p}=...)"
                seen[p] += 1
    assert min(seen.values()) > 0, seen
    # and a default call equals the call with the paper's values written out
    s = torch.tensor([0.01, 0.5, 7.0], dtype=torch.float64)
    assert torch.equal(c_skip(s), c_skip(s, 0.5)) and torch.equal(loss_weight(s), loss_weight(s, 0.5))
    assert torch.equal(nets.edm_sigma_steps(6), nets.edm_sigma_steps(6, 0.002, 80.0))
    assert float(nets.edm_sigma_steps(6)[0]) == pytest.approx(80.0, rel=1e-14)
