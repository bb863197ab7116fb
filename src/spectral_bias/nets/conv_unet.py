"""Convolutional UNet backbone in the style of the SongUNet used in App. I.6 of Wang & Pehlevan (2025).

Encoder levels of residual conv blocks (GroupNorm → SiLU → 3×3 conv, time-embedding scale/shift,
GroupNorm → SiLU → 3×3 conv, skip), 2× average-pool downsampling between levels, optional self-attention
at chosen resolutions, a mirrored decoder with nearest upsampling and concatenated skip connections.
Width is set by ``base_channels`` (4–8 "narrow", 64–128 "wide") and ``channel_mult``. Our own code.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as Fn

from .embedding import GaussianFourierEmbedding

__all__ = ["ConvResBlock", "ConvUNet", "SelfAttention2d", "group_count"]


def group_count(channels: int, max_groups: int = 32, min_per_group: int = 4) -> int:
    """Number of GroupNorm groups for ``channels``: the largest divisor of channels that is <= max_groups and
    leaves >= min_per_group channels per group (1 for tiny channel counts such as 4)."""
    if int(channels) < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    best = 1
    for g in range(1, min(max_groups, channels) + 1):
        if channels % g == 0 and channels // g >= min_per_group:
            best = g
    return best


class ConvResBlock(nn.Module):
    """Residual conv block with time-embedding scale/shift: (B, c_in, H, W), (B, E) → (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, dropout: float = 0.0, attention: bool = False):
        super().__init__()
        self.norm1 = nn.GroupNorm(group_count(c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * c_out)
        self.norm2 = nn.GroupNorm(group_count(c_out), c_out)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        self.attn = SelfAttention2d(c_out) if attention else None

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(Fn.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.drop(Fn.silu(h)))
        h = self.skip(x) + h
        return self.attn(h) if self.attn is not None else h


class SelfAttention2d(nn.Module):
    """Single-head self-attention over the H·W positions with a residual connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.GroupNorm(group_count(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).unbind(1)
        a = Fn.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return x + self.proj(a.transpose(1, 2).reshape(B, C, H, W))


class ConvUNet(nn.Module):
    """Convolutional UNet backbone F(x_in, c_noise) for images of shape (B, C, H, W).

    Args:
        in_channels: image channels C; resolution: H = W (must be divisible by 2**(levels-1)).
        base_channels: width of the first level; channel_mult: per-level multipliers (its length = levels).
        num_blocks: residual blocks per level; attn_resolutions: resolutions at which blocks add attention.
        time_embed_dim: even width of the time embedding; dropout in [0, 1).
    Raises ValueError on inconsistent sizes.
    """

    def __init__(
        self,
        in_channels: int,
        resolution: int,
        base_channels: int = 64,
        channel_mult: Sequence[int] = (1, 2, 2),
        num_blocks: int = 1,
        attn_resolutions: Sequence[int] = (),
        time_embed_dim: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        if int(in_channels) < 1 or int(base_channels) < 1 or int(num_blocks) < 1:
            raise ValueError(
                "in_channels, base_channels and num_blocks must be positive integers, got "
                f"{in_channels}, {base_channels}, {num_blocks}"
            )
        if len(channel_mult) < 1 or any(int(m) < 1 for m in channel_mult):
            raise ValueError(f"channel_mult must be a non-empty list of positive integers, got {channel_mult}")
        levels = len(channel_mult)
        if resolution % 2 ** (levels - 1):
            raise ValueError(f"resolution {resolution} must be divisible by 2**(levels-1) = {2 ** (levels - 1)}")
        self.resolution = int(resolution)
        E = time_embed_dim
        self.embed = nn.Sequential(GaussianFourierEmbedding(E), nn.Linear(E, E), nn.SiLU(), nn.Linear(E, E), nn.SiLU())
        self.conv_in = nn.Conv2d(in_channels, base_channels, 3, padding=1)
        chans = [base_channels * int(m) for m in channel_mult]
        self.down = nn.ModuleList()
        skip_ch = [base_channels]
        c, res = base_channels, resolution
        for lvl, ch in enumerate(chans):
            for _ in range(num_blocks):
                self.down.append(ConvResBlock(c, ch, E, dropout, res in attn_resolutions))
                c = ch
                skip_ch.append(c)
            if lvl < levels - 1:
                self.down.append(nn.AvgPool2d(2))
                res //= 2
                skip_ch.append(c)
        self.mid = ConvResBlock(c, c, E, dropout, res in attn_resolutions)
        self.up = nn.ModuleList()
        for lvl in reversed(range(levels)):
            ch = chans[lvl]
            for _ in range(num_blocks + 1):
                self.up.append(ConvResBlock(c + skip_ch.pop(), ch, E, dropout, res in attn_resolutions))
                c = ch
            if lvl > 0:
                self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
                res *= 2
        self.norm_out = nn.GroupNorm(group_count(c), c)
        self.conv_out = nn.Conv2d(c, in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            raise ValueError(f"x must have shape (B, C, {self.resolution}, {self.resolution}), got {tuple(x.shape)}")
        emb = self.embed(c_noise)
        h = self.conv_in(x)
        skips = [h]
        for m in self.down:
            h = m(h, emb) if isinstance(m, ConvResBlock) else m(h)
            skips.append(h)
        h = self.mid(h, emb)
        for m in self.up:
            h = m(torch.cat([h, skips.pop()], 1), emb) if isinstance(m, ConvResBlock) else m(h)
        return self.conv_out(Fn.silu(self.norm_out(h)))
