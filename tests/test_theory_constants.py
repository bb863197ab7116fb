"""The protocol's constants are defined once and are the defaults of every theory and numerics signature."""

import inspect

import numpy as np
import pytest

from spectral_bias import numerics, theory


def test_values_are_the_papers():
    # EDM / Wang & Pehlevan 2025: sigma in [0.002, 80], sigma_data = 0.5; Fig. 2 spectrum of eight modes
    assert (theory.SIGMA_MIN, theory.SIGMA_MAX, theory.SIGMA_DATA) == (0.002, 80.0, 0.5)
    np.testing.assert_array_equal(theory.PAPER_FIG2_LAMBDAS, [10, 3, 1, 0.3, 0.1, 0.03, 0.01, 0.001])


def test_fig2_spectrum_is_read_only():
    with pytest.raises(ValueError):
        theory.PAPER_FIG2_LAMBDAS[0] = 1.0


def _signatures():
    for mod in (theory, numerics):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                yield f"{mod.__name__}.{name}", inspect.signature(obj)


def test_every_default_uses_the_constants():
    expected = {"sigma_min": theory.SIGMA_MIN, "sigma_max": theory.SIGMA_MAX, "sigma_data": theory.SIGMA_DATA}
    seen = {k: 0 for k in expected}
    for where, sig in _signatures():
        for p, value in expected.items():
            if p in sig.parameters and sig.parameters[p].default is not inspect.Parameter.empty:
                assert sig.parameters[p].default == value, where
                seen[p] += 1
    assert min(seen.values()) > 0, seen


def test_changing_the_range_changes_the_result():
    # the default really is the constant: passing it explicitly gives the same value, another range does not
    lam, tau = np.array([0.1, 1.0]), 3.0
    default = theory.one_layer_generated_variance(lam, tau, q=0.1)
    explicit = theory.one_layer_generated_variance(lam, tau, q=0.1, sigma_min=0.002, sigma_max=80.0)
    other = theory.one_layer_generated_variance(lam, tau, q=0.1, sigma_min=0.01, sigma_max=80.0)
    np.testing.assert_array_equal(default, explicit)
    assert not np.allclose(default, other)


_CONSTANT_OF = {"sigma_min": "SIGMA_MIN", "sigma_max": "SIGMA_MAX", "sigma_data": "SIGMA_DATA"}


def _defaults_in_source():
    """(file:line function, parameter, default expression) for every sigma_min/sigma_max/sigma_data default of
    every function, public or private, in the theory and numerics source files."""
    import ast
    from pathlib import Path

    for mod in (theory, numerics):
        for path in sorted(Path(mod.__file__).parent.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    continue
                a = node.args
                positional = a.posonlyargs + a.args
                pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults))
                pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
                for arg, default in pairs:
                    if arg.arg in _CONSTANT_OF:
                        where = f"{path.name}:{node.lineno} {getattr(node, 'name', 'lambda')}"
                        yield where, arg.arg, ast.unparse(default)


def test_defaults_name_the_constants_in_the_source():
    # stricter than comparing values: a literal 0.002 / 80.0 / 0.5 default is refused even though it is equal
    found = list(_defaults_in_source())
    assert len(found) >= 20, found  # the signatures are really being read
    bad = [f"{where}: {name}={expr}" for where, name, expr in found if expr != _CONSTANT_OF[name]]
    assert not bad, "defaults must be theory.constants names, not literals: " + "; ".join(bad)
