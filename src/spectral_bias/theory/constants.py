"""Constants of the paper's protocol, defined once (Wang & Pehlevan 2025; EDM, Karras et al. 2022).

``SIGMA_MIN`` and ``SIGMA_MAX`` are the ends of the noise range over which the probability-flow ODE is integrated
(sigma_max -> sigma_min), the defaults of every generated-variance formula in :mod:`spectral_bias.theory` and of the
samplers in :mod:`spectral_bias.numerics`. ``SIGMA_DATA`` is EDM's data scale in the preconditioning
(c_skip, c_out, c_in) of chapter 8. ``PAPER_FIG2_LAMBDAS`` is the eight-mode spectrum of the paper's Figs. 2 and 5,
used by chapters 3-6 and 8 and the explorer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PAPER_FIG2_LAMBDAS", "SIGMA_DATA", "SIGMA_MAX", "SIGMA_MIN"]

SIGMA_MIN = 0.002
SIGMA_MAX = 80.0
SIGMA_DATA = 0.5

PAPER_FIG2_LAMBDAS = np.array([10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.001])
PAPER_FIG2_LAMBDAS.setflags(write=False)  # shared by every chapter: nobody may change it in place
