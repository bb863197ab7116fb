"""spectral_bias: the computations behind the book *How diffusion models learn*.

Subpackages
-----------
theory       closed forms (numpy/scipy only; never imports torch)
numerics     independent checks: quadrature, ODE solves, explicit gradient descent, linear PF-ODE sampler
nets         torch denoisers: EDM preconditioning and loss, MLP-UNet, convolutional UNet, Heun sampler
experiments  configuration, training loop, spectral measurement, checkpoints, analysis, command line
data         offline datasets and their cached spectra
plotting     one figure style
interactive  kernel-free interactive figures (HTML, CSS and JavaScript templates in templates/)
booktools    build tooling for the book's notebook twins (not needed to use the package)

Subpackages are imported on demand, so ``import spectral_bias`` stays light and torch-free.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
