"""Images in and out: defensive decoding of uploads, the built-in sample photos, and drawing a
receptive-field box. Torch-free (Pillow and NumPy only)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from ..architecture.lecture import Box
from ..i18n import N_, TranslatableError

SAMPLES_DIR = Path(__file__).parents[1] / "samples"
# Name (an identifier, and the English label: translated where shown, ``_(name)``) -> file.
SAMPLES = {N_("chelsea the cat"): "chelsea.jpg", N_("coffee"): "coffee.jpg", N_("astronaut"): "astronaut.jpg",
           N_("rocket"): "rocket.jpg"}
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff", "heic", "heif"]
# HEIC/HEIF (iPhones' and many Android phones' photos) through pillow-heif (libheif). Its embedded
# thumbnails are not offered (the full image is decoded); libheif applies the image's rotation and
# mirroring itself and pillow-heif then clears the EXIF orientation, so exif_transpose never turns it twice.
pillow_heif.register_heif_opener(thumbnails=False)
# Pillow's decoders for those types. Restricting Image.open to them keeps exotic (and less
# hardened) decoders out of reach of uploads.
Image.init()
FORMATS = tuple(f for f in ("JPEG", "MPO", "PNG", "WEBP", "BMP", "DIB", "GIF", "TIFF", "HEIF") if f in Image.OPEN)
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 30000x30000 "bomb" is refused before it is decoded
# Photos are scaled down right after decoding to at most this many pixels on the long side. Every page needs
# less: the model sees 224-256 px (the receptive-field page, the input size typed in the sidebar: 224 by
# default, a few hundred in practice), and pictures go to the browser at most render.DISPLAY_WIDTH (1460) px
# wide. 2048 keeps a margin above both, yet a 48-MP phone photo (8000x6000) keeps 3 MP (9 MB of RGB instead
# of 144 MB in the photo cache, and every later resize is 15x cheaper). JPEGs are decoded at 1/2, 1/4 or 1/8
# scale (Pillow's draft(), libjpeg's DCT scaling) when that still leaves at least MAX_SIDE, so their full
# size is never decoded; other formats are decoded whole, then resized.
MAX_SIDE = 2048
MIN_SIDE = 8
MAX_ASPECT = 20


class ImageError(TranslatableError, ValueError):
    """An image that cannot be used; the message says why in one sentence."""

    MESSAGES = {
        "empty": N_("{name} is empty (0 bytes)"),
        "too_large": N_("{name} is {mb:.1f} MB; the limit is {limit} MB"),
        "too_many_pixels": N_("{name} is {width}×{height} pixels; images above {limit} megapixels are refused"),
        "not_an_image": N_("{name} is not an image this app reads (JPEG, PNG, WebP, BMP, GIF, TIFF, HEIC or HEIF)"),
        "bomb": N_("{name} decompresses to too many pixels and was refused"),
        "corrupt": N_("{name} could not be decoded ({kind}: truncated or corrupt)"),
        "too_small": N_("{name} is {width}×{height} pixels; each side must be at least {minimum}"),
        "too_narrow": N_("{name} is {width}×{height} pixels; sides more than {ratio}:1 apart are refused"),
        "unreadable": N_("{path} cannot be read ({reason})"),
    }


def decode_image(data: bytes, name: str = "image") -> Image.Image:
    """Decode untrusted bytes to an RGB image: first frame / page, EXIF orientation applied,
    16-bit, 32-bit, float, grayscale, palette, alpha and CMYK converted, at most MAX_SIDE pixels on the long
    side (aspect ratio kept). Raises ImageError with a clear message."""
    if not data:
        raise ImageError("empty", name=name)
    if len(data) > MAX_BYTES:
        raise ImageError("too_large", name=name, mb=len(data) / 2**20, limit=MAX_BYTES // 2**20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise ImageError("too_many_pixels", name=name, width=w, height=h, limit=MAX_PIXELS // 1_000_000)
            # Judged on the stored size (orientation only swaps the sides), before any scaling down.
            if min(w, h) < MIN_SIDE:
                raise ImageError("too_small", name=name, width=w, height=h, minimum=MIN_SIDE)
            if max(w, h) > MAX_ASPECT * min(w, h):
                raise ImageError("too_narrow", name=name, width=w, height=h, ratio=MAX_ASPECT)
            im.seek(0)  # first frame of a GIF, first page of a TIFF
            if max(w, h) > MAX_SIDE and im.format in ("JPEG", "MPO"):
                scale = MAX_SIDE / max(w, h)
                im.draft(None, (max(1, int(w * scale)), max(1, int(h * scale))))
            im.load()
            im = _scaled_down(ImageOps.exif_transpose(im))  # a new plain Image: draft() no longer applies
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("not_an_image", name=name) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("bomb", name=name) from None
    except Exception as exc:  # decoders raise many types on hostile input: all mean "unusable"
        raise ImageError("corrupt", name=name, kind=exc.__class__.__name__) from None
    return to_rgb(im)


def _scaled_down(im: Image.Image) -> Image.Image:
    # Bicubic (antialiased, as every Pillow downscale): on a 48-MP JPEG's half-scale decode it took 0.09 s where
    # Lanczos took 0.12 s, and the model's input from either differs by at most one level of 255 (a noisy photo).
    # reducing_gap: a fast box reduce to 2x the target first when the photo is larger still.
    if max(im.size) <= MAX_SIDE:
        return im
    if im.mode not in ("RGB", "L", "RGBA", "LA", "CMYK") and im.mode not in WIDE_MODES:
        im = to_rgb(im)  # palette and other modes cannot be resampled as they are
    im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BICUBIC, reducing_gap=2.0)  # in place: ours alone
    return im


WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")  # one channel of 16-bit, 32-bit integer or float values


def to_8bit(a: np.ndarray) -> np.ndarray:
    """One channel of wide values -> uint8, scaled by the range the data really has.

    Integers from 0 up to at most 255 are 8-bit data stored in a wide mode (kept as they are); up to 65535,
    16-bit data (scaled from 0…65535, so a dark 16-bit photo stays dark). Anything else (negative or larger
    integers, floats outside 0…1) is stretched from its own minimum to its own maximum, so that a 32-bit
    TIFF is not solid white and negative floats are not cut off; floats within 0…1 are scaled from 0…1.
    Non-finite values count as the nearest finite extreme."""
    a = a.astype(np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return np.zeros(a.shape, np.uint8)
    lo, hi = float(finite.min()), float(finite.max())
    a = np.nan_to_num(a, nan=lo, posinf=hi, neginf=lo)
    integral = bool(np.all(a == np.round(a)))
    if integral and lo >= 0 and hi <= 255:
        lo, hi = 0.0, 255.0
    elif integral and lo >= 0 and hi <= 65535:
        lo, hi = 0.0, 65535.0
    elif not integral and lo >= 0 and hi <= 1:
        lo, hi = 0.0, 1.0
    scaled = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def to_rgb(im: Image.Image) -> Image.Image:
    """RGB, 8 bits per channel; transparent areas composited on white."""
    if im.mode in WIDE_MODES:
        im = Image.fromarray(to_8bit(np.asarray(im)), "L")
    if im.mode == "P" or im.mode == "PA":
        im = im.convert("RGBA")
    if im.mode in ("LA", "RGBA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    return im.convert("RGB")


def load_image(path: str | Path) -> Image.Image:
    """Read and decode a file with the same checks as an upload."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageError("too_large", name=path.name, mb=size / 2**20, limit=MAX_BYTES // 2**20)
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError("unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    return decode_image(data, path.name)


def sample(name: str) -> Image.Image:
    """One of the built-in sample photos (see samples/CREDITS.md)."""
    return load_image(SAMPLES_DIR / SAMPLES[name])


def draw_receptive_field(image: Image.Image, full: Box, clipped: Box) -> Image.Image:
    """The image on a grey margin wide enough to show the whole box: the full receptive field outlined
    (dashed where it runs past the border), the part inside the image shaded."""
    w, h = image.size
    margin = max(0, -full.top, -full.left, full.bottom - (h - 1), full.right - (w - 1))
    canvas = Image.new("RGBA", (w + 2 * margin, h + 2 * margin), (200, 200, 200, 255))
    canvas.paste(image.convert("RGBA"), (margin, margin))
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    line = max(1, min(w, h) // 150)
    draw.rectangle(
        (clipped.left + margin, clipped.top + margin, clipped.right + margin + 1, clipped.bottom + margin + 1),
        fill=(255, 64, 64, 70), outline=(255, 0, 0, 255), width=line,
    )
    _dashed_rectangle(draw, (full.left + margin, full.top + margin, full.right + margin + 1, full.bottom + margin + 1),
                      (255, 200, 0, 255), line)
    cy, cx = (full.top + full.bottom) / 2 + margin, (full.left + full.right) / 2 + margin
    r = 2 * line + 1
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 0, 255))
    return Image.alpha_composite(canvas, overlay).convert("RGB")


def _dashed_rectangle(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], colour, width: int) -> None:
    # Pillow draws no dashed lines; short segments along each side do.
    x0, y0, x1, y1 = box
    dash = max(4, 3 * width)
    for a, b, fixed, horizontal in ((x0, x1, y0, True), (x0, x1, y1, True), (y0, y1, x0, False), (y0, y1, x1, False)):
        pos = a
        while pos < b:
            end = min(pos + dash, b)
            draw.line((pos, fixed, end, fixed) if horizontal else (fixed, pos, fixed, end), fill=colour, width=width)
            pos += 2 * dash


UNIT_OUTLINE = (255, 23, 68)


def outline_unit(image: Image.Image, shape: tuple[int, int], unit: tuple[int, int]) -> Image.Image:
    """``image`` (a channel enlarged from a ``shape`` (H, W) map) as RGB, with unit (row, col) outlined, and
    ringed when a unit is only a few pixels wide, so that it can be seen."""
    (h, w), (r, c) = shape, unit
    image = image.convert("RGB")
    sy, sx = image.height / h, image.width / w
    draw, line = ImageDraw.Draw(image), max(1, image.width // 150)
    draw.rectangle((c * sx, r * sy, (c + 1) * sx - 1, (r + 1) * sy - 1), outline=UNIT_OUTLINE, width=line)
    if min(sx, sy) < 8:
        x, y, ring = (c + 0.5) * sx, (r + 0.5) * sy, 6 + line
        draw.ellipse((x - ring, y - ring, x + ring, y + ring), outline=UNIT_OUTLINE, width=line)
    return image

