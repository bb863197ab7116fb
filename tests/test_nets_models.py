"""Shapes, GroupNorm handling and basic behaviour of the MLP-UNet and the convolutional UNet."""

import pytest
import torch

from spectral_bias.nets import ConvUNet, EDMPrecond, GaussianFourierEmbedding, MLPUNet, group_count


def test_group_count_tiny_and_wide():
    # divides the channels, <= 32 groups, >= 4 channels per group (1 group when channels < 8)
    for c in (1, 3, 4, 6, 8, 12, 64, 96, 128, 256):
        g = group_count(c)
        assert c % g == 0 and g <= 32 and (g == 1 or c // g >= 4)
    assert group_count(4) == 1 and group_count(128) == 32 and group_count(64) == 16
    with pytest.raises(ValueError, match="channels"):
        group_count(0)


def test_fourier_embedding():
    e = GaussianFourierEmbedding(8)
    out = e(torch.tensor([0.0, 0.3]))
    assert out.shape == (2, 8)
    assert torch.allclose(out[0, :4], torch.zeros(4)) and torch.allclose(out[0, 4:], torch.ones(4))
    assert torch.allclose(out.pow(2)[:, :4] + out.pow(2)[:, 4:], torch.ones(2, 4))  # sin² + cos² = 1
    with pytest.raises(ValueError, match="time_embed_dim"):
        GaussianFourierEmbedding(7)


def test_mlp_unet_shapes_and_time_dependence():
    torch.manual_seed(0)
    net = MLPUNet(12, nlayers=3, nhidden=16, time_embed_dim=8)
    x = torch.randn(5, 12)
    y1, y2 = net(x, torch.zeros(5)), net(x, torch.ones(5))
    assert y1.shape == (5, 12) and not torch.allclose(y1, y2)  # conditioned on c_noise
    assert net(x.reshape(5, 3, 2, 2), torch.zeros(5)).shape == (5, 3, 2, 2)
    with pytest.raises(ValueError, match="features"):
        net(torch.randn(5, 11), torch.zeros(5))
    with pytest.raises(ValueError, match="nlayers"):
        MLPUNet(12, nlayers=0)
    with pytest.raises(ValueError, match="dropout"):
        MLPUNet(12, dropout=1.0)


@pytest.mark.parametrize("base,mult,attn,C", [(4, (1, 2), (), 1), (8, (1, 2, 2), (4,), 3)])
def test_conv_unet_shapes_and_conditioning(base, mult, attn, C):
    torch.manual_seed(0)
    net = ConvUNet(
        C, 8, base_channels=base, channel_mult=mult, num_blocks=1, attn_resolutions=attn, time_embed_dim=16
    ).eval()
    x = torch.randn(3, C, 8, 8)
    y = net(x, torch.zeros(3))
    assert y.shape == x.shape
    # the output depends on the noise level through the time embedding
    assert not torch.allclose(y, net(x, torch.ones(3)))
    with pytest.raises(ValueError, match="divisible"):
        ConvUNet(C, 6, base_channels=base, channel_mult=(1, 2, 2))
    with pytest.raises(ValueError, match="shape"):
        net(torch.randn(3, C, 4, 4), torch.zeros(3))


def test_precond_conv_unet_runs_backward():
    net = EDMPrecond(ConvUNet(1, 8, base_channels=4, channel_mult=(1, 2), time_embed_dim=8))
    x = torch.randn(2, 1, 8, 8)
    out = net(x, torch.tensor([0.1, 10.0]))
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
