"""Classical fourth-order Runge–Kutta for autonomous gradient flows, recorded at given times.

Shared by the explicit gradient-flow checks (deep_gd, conv_gd, flow_sampler): each integrates dθ/dτ = f(θ) with a
fixed step no larger than ``dt_max`` between consecutive recording times, so the global error is O(dt_max⁴).
"""

from __future__ import annotations

import numpy as np


def rk4_at_times(f, state, times, dt_max):
    """Integrate dθ/dτ = f(θ) from τ = 0 and return the states at the non-decreasing ``times``.

    ``state`` is a list of arrays (the parameters; ``f`` takes and returns such a list). Between recording times the
    interval is split into ceil(Δτ/dt_max) equal RK4 steps. Returns a list (one per time) of lists of array copies.
    """
    out = []
    t = 0.0
    for t_next in times:
        n = int(np.ceil((t_next - t) / dt_max)) if t_next > t else 0
        if n:
            h = (t_next - t) / n
            for _ in range(n):
                k1 = f(state)
                k2 = f([s + 0.5 * h * k for s, k in zip(state, k1)])
                k3 = f([s + 0.5 * h * k for s, k in zip(state, k2)])
                k4 = f([s + h * k for s, k in zip(state, k3)])
                state = [s + h / 6.0 * (a + 2 * b + 2 * c + e) for s, a, b, c, e in zip(state, k1, k2, k3, k4)]
        t = t_next
        out.append([s.copy() for s in state])
    return out
