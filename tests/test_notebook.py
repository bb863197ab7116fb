"""spectral_bias.notebook.glue: forwards to myst-nb in the book, prints where myst-nb is missing."""

import sys
import types

import pytest

from spectral_bias.notebook import glue


def test_forwards_to_myst_nb(monkeypatch):
    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    glue("ch0_x", 1.5, display=False)
    assert calls == [("ch0_x", 1.5, False)]


def test_prints_without_myst_nb(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # makes `import myst_nb` raise ImportError
    glue("ch0_y", 3, display=False)
    assert capsys.readouterr().out == "ch0_y = 3\n"


def test_bad_name():
    with pytest.raises(TypeError, match="name"):
        glue("", 1)
