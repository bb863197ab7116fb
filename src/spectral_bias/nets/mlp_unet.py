"""MLP-UNet backbone: the "UNet-block-style" MLP described in App. I.2 of Wang & Pehlevan (2025).

Each residual block: LayerNorm → SiLU → Linear, then an adaptive scale/shift from the time embedding,
then LayerNorm → SiLU → dropout → Linear, plus a skip (identity, or Linear when widths differ).
A final plain Linear maps back to the data dimension. Written from the paper's description.
"""

from __future__ import annotations

import torch
from torch import nn

from .embedding import GaussianFourierEmbedding

__all__ = ["MLPBlock", "MLPUNet"]


class MLPBlock(nn.Module):
    """One residual block with adaptive (FiLM-style) scale/shift: input (B, n_in), emb (B, E) → (B, n_out)."""

    def __init__(self, n_in: int, n_out: int, emb_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(n_in)
        self.lin1 = nn.Linear(n_in, n_out)
        self.film = nn.Linear(emb_dim, 2 * n_out)
        self.norm2 = nn.LayerNorm(n_out)
        self.drop = nn.Dropout(dropout)
        self.lin2 = nn.Linear(n_out, n_out)
        self.skip = nn.Identity() if n_in == n_out else nn.Linear(n_in, n_out)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.lin1(torch.nn.functional.silu(self.norm1(x)))
        scale, shift = self.film(emb).chunk(2, dim=1)
        h = h * (1 + scale) + shift
        h = self.lin2(self.drop(torch.nn.functional.silu(self.norm2(h))))
        return self.skip(x) + h


class MLPUNet(nn.Module):
    """MLP backbone F(x_in, c_noise) for flattened data.

    Args:
        ndim: data dimension d; inputs of shape (B, d) (or (B, C, H, W), flattened and reshaped back).
        nlayers: number of residual blocks (>= 1). The first maps d → nhidden.
        nhidden: hidden width; time_embed_dim: even width of the Fourier time embedding; dropout in [0, 1).
    Raises ValueError on non-positive sizes or dropout outside [0, 1).
    """

    def __init__(
        self, ndim: int, nlayers: int = 5, nhidden: int = 256, time_embed_dim: int = 256, dropout: float = 0.0
    ):
        super().__init__()
        for name, v in (("ndim", ndim), ("nlayers", nlayers), ("nhidden", nhidden)):
            if int(v) < 1:
                raise ValueError(f"{name} must be a positive integer, got {v}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.ndim = int(ndim)
        self.embed = nn.Sequential(
            GaussianFourierEmbedding(time_embed_dim), nn.Linear(time_embed_dim, time_embed_dim), nn.SiLU()
        )
        widths = [ndim] + [nhidden] * nlayers
        self.blocks = nn.ModuleList(MLPBlock(a, b, time_embed_dim, dropout) for a, b in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(nhidden, ndim)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        h = x.reshape(shape[0], -1)
        if h.shape[1] != self.ndim:
            raise ValueError(f"x must have {self.ndim} features per sample, got {h.shape[1]}")
        emb = self.embed(c_noise)
        for blk in self.blocks:
            h = blk(h, emb)
        return self.out(h).reshape(shape)
