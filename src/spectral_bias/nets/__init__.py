"""Neural denoisers (torch): EDM preconditioning and loss, MLP-UNet, convolutional UNet, Heun sampler."""

from .conv_unet import ConvUNet, group_count
from .edm import EDMPrecond, c_in, c_noise, c_out, c_skip, edm_loss, loss_weight, sample_training_sigma
from .embedding import GaussianFourierEmbedding
from .mlp_unet import MLPUNet
from .sampler import edm_sigma_steps, heun_sample, heun_sample_batched

__all__ = [
    "ConvUNet",
    "EDMPrecond",
    "GaussianFourierEmbedding",
    "MLPUNet",
    "c_in",
    "c_noise",
    "c_out",
    "c_skip",
    "edm_loss",
    "edm_sigma_steps",
    "group_count",
    "heun_sample",
    "heun_sample_batched",
    "loss_weight",
    "sample_training_sigma",
]
