"""How an optimised image is parameterised: the numbers the optimiser changes, and the RGB image they make.

- ``FourierImage``: Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017, §"Preconditioning and
  parameterization", as torch-lucent implements it (``lucent/optvis/param/spatial.py:fft_image`` and
  ``param/color.py:to_valid_rgb(decorrelate=True)``, Apache-2.0; REFERENCE.md §11): the image's spectrum,
  scaled by 1/f so that every frequency learns at a similar rate, colours decorrelated, squashed by a sigmoid.
- ``PixelImage``: the plain pixels in the model's normalised space, starting from zero (Simonyan, Vedaldi &
  Zisserman 2013's class model).
"""

from __future__ import annotations

import numpy as np
import torch

# lucid's ImageNet colour correlation, the square root of its SVD (lucent/optvis/param/color.py,
# from lucid/optvis/param/color.py): data, kept as published.
COLOR_CORRELATION_SVD_SQRT = (
    (0.26, 0.09, 0.02),
    (0.27, 0.00, -0.05),
    (0.27, -0.09, 0.03),
)
SPECTRUM_SD = 0.01  # lucent: spectrum ~ N(0, 0.01²), real and imaginary parts
DECAY = 1.0  # lucent's decay_power
MAGIC = 4.0  # lucent: "Magic constant from Lucid library; increasing this seems to reduce saturation"


def color_correlation() -> torch.Tensor:
    """The published matrix divided by its largest column norm (lucent's ``color_correlation_normalized``)."""
    m = torch.tensor(COLOR_CORRELATION_SVD_SQRT, dtype=torch.float32)
    return m / m.norm(dim=0).max()


def decorrelate(image: torch.Tensor, matrix: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 3, H, W) in decorrelated colour -> RGB logits: each pixel's row vector times the matrix's transpose,
    as lucent's ``_linear_decorrelate_color`` does (``matrix``: ``color_correlation()``, made once by a caller
    that decorrelates every step)."""
    m = color_correlation().to(image.device) if matrix is None else matrix
    return (image.permute(0, 2, 3, 1) @ m.T).permute(0, 3, 1, 2)


def rfft2d_freqs(h: int, w: int) -> torch.Tensor:
    """|f| of each coefficient of a real 2-D FFT of an h×w image (lucid's ``rfft2d_freqs``): (h, w//2 + 1), or
    one more column for an odd w, as lucid keeps."""
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(w, dtype=torch.float64)[: w // 2 + (2 if w % 2 else 1)]
    return torch.sqrt(fx * fx + fy * fy)


def spectrum_scale(h: int, w: int, decay: float = DECAY) -> torch.Tensor:
    """1 / max(f, 1/max(w, h))^decay: the 1/f scaling of lucent's ``fft_image`` (float32)."""
    return (1.0 / torch.clamp(rfft2d_freqs(h, w), min=1.0 / max(w, h)) ** decay).float()


class FourierImage(torch.nn.Module):
    """``n`` RGB images of size×size in [0, 1], parameterised by a 1/f-scaled spectrum in decorrelated colour.

    The ``n`` spectra are drawn from ``generator`` (CPU), then repeated ``copies`` times: several channels
    optimised as one batch start exactly where each would start alone."""

    def __init__(self, n: int, size: int, generator: torch.Generator, decorrelated: bool = True,
                 device: torch.device | str = "cpu", copies: int = 1) -> None:
        super().__init__()
        self.size, self.decorrelated = size, decorrelated
        scale = spectrum_scale(size, size)
        shape = (3, *scale.shape, 2)  # 2: real and imaginary parts
        spectrum = torch.stack([torch.randn(shape, generator=generator) * SPECTRUM_SD for _ in range(n)])
        spectrum = spectrum.repeat(copies, 1, 1, 1, 1)  # ``copies`` runs in one batch, each from the same start
        self.spectrum = torch.nn.Parameter(spectrum.to(device))
        self.register_buffer("scale", scale[None, None, ..., None].to(device), persistent=False)
        self.register_buffer("colour", color_correlation().to(device), persistent=False)

    def forward(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.scale * self.spectrum)
        image = torch.fft.irfftn(spectrum, s=(self.size, self.size), norm="ortho") / MAGIC
        if self.decorrelated:
            image = decorrelate(image, self.colour)
        return torch.sigmoid(image)


class PixelImage(torch.nn.Module):
    """``n`` images as plain pixels in the model's normalised space, from zero (Simonyan et al. 2013: "we
    initialised the optimisation with the zero image"). ``rgb()`` adds the mean back for display."""

    def __init__(self, n: int, size: int, mean: tuple[float, ...], std: tuple[float, ...],
                 device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.pixels = torch.nn.Parameter(torch.zeros(n, 3, size, size, device=device))
        self.register_buffer("mean", torch.tensor(mean, device=device)[None, :, None, None], persistent=False)
        self.register_buffer("std", torch.tensor(std, device=device)[None, :, None, None], persistent=False)

    def forward(self) -> torch.Tensor:
        """The normalised input itself (what the model reads)."""
        return self.pixels

    def rgb(self) -> torch.Tensor:
        """The image in [0, 1]: the mean added back, clipped."""
        return (self.pixels * self.std + self.mean).clamp(0, 1)


def to_uint8(rgb: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [0, 1] -> (N, H, W, 3) uint8."""
    return (rgb.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)
