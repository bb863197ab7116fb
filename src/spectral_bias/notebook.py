"""Notebook helpers shared by every chapter.

:func:`glue` pastes a value computed in a cell into the book's prose (the ``{glue:text}`` role of myst-nb) and, where
myst-nb is not installed (Colab, a plain Jupyter), prints it instead, so every chapter runs anywhere.
"""

from __future__ import annotations

__all__ = ["glue"]


def glue(name: str, value, display: bool = True) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`name``` in the chapter's text (``myst_nb.glue``), or print
    ``name = value`` where myst-nb is missing. ``display=False`` (what the chapters pass) keeps the value out of the
    cell's visible output in the book. A numpy scalar is passed on as the Python number it holds: myst-nb formats
    ``{glue:text}`name:.2f``` from the value's text form, which for ``np.float64`` is ``np.float64(0.5)`` under
    numpy 2 and cannot be formatted. Used by every chapter and the explorer. Raises TypeError unless ``name`` is a
    non-empty string."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # e.g. in Colab
        print(f"{name} = {value}")
        return
    myst_glue(name, value, display=display)
