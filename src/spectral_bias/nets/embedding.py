"""Time (noise-level) embeddings shared by the MLP-UNet and the convolutional UNet."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["GaussianFourierEmbedding"]


class GaussianFourierEmbedding(nn.Module):
    """Random Fourier features [sin(2π c W), cos(2π c W)] of a scalar c per sample, W ~ N(0, scale²) fixed.

    Input shape (B,), output (B, dim). ``dim`` must be even and >= 2 (ValueError otherwise). This is the
    Gaussian-Fourier embedding of c_noise described in App. I.2 of Wang & Pehlevan (2025) (scale 1).
    """

    def __init__(self, dim: int, scale: float = 1.0):
        super().__init__()
        if int(dim) < 2 or int(dim) % 2:
            raise ValueError(f"time_embed_dim must be an even integer >= 2, got {dim}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be finite and > 0, got {scale}")
        self.register_buffer("W", torch.randn(int(dim) // 2) * scale)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        arg = 2 * math.pi * c.reshape(-1, 1) * self.W.reshape(1, -1)
        return torch.cat([arg.sin(), arg.cos()], dim=1)
