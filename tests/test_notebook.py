"""spectral_bias.notebook.glue: forwards to myst-nb in the book, prints where myst-nb is missing."""

import sys
import types

import numpy as np
import pytest

from spectral_bias.notebook import glue


def test_forwards_to_myst_nb(monkeypatch):
    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    glue("ch0_x", 1.5, display=False)
    assert calls == [("ch0_x", 1.5, False)]


@pytest.mark.parametrize(
    ("value", "expected"), [(np.float64(0.25), 0.25), (np.int64(7), 7), (np.bool_(True), True), (np.float32(0.5), 0.5)]
)
def test_numpy_scalars_are_passed_as_python_numbers(monkeypatch, value, expected):
    """myst-nb formats a glued number from its text form: np.float64(0.25) would not format with :.2f."""
    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append(value)
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    glue("ch0_z", value, display=False)
    assert calls == [expected] and type(calls[0]) is type(expected)
    assert repr(calls[0]) == repr(expected)  # the text form myst-nb formats, e.g. '0.25', not 'np.float64(0.25)'


def test_arrays_are_passed_unchanged(monkeypatch):
    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append(value)
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    a = np.arange(3)
    glue("ch0_a", a, display=False)
    assert calls[0] is a


def test_prints_without_myst_nb(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # makes `import myst_nb` raise ImportError
    glue("ch0_y", 3, display=False)
    assert capsys.readouterr().out == "ch0_y = 3\n"


def test_bad_name():
    with pytest.raises(TypeError, match="name"):
        glue("", 1)
