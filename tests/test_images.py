"""Decoding photos: every supported format and mode to RGB, EXIF orientation, and clear refusals."""

import io

import numpy as np
import pytest
from PIL import Image

from helpers import encode, photo
from vggviz.photo import images


def test_modes_and_formats_become_rgb():
    base = photo(0, (64, 48))
    cases = {
        "jpeg": encode(base, "JPEG"),
        "png-16bit": encode(Image.fromarray((np.asarray(base.convert("L")).astype(np.uint16) * 257)), "PNG"),
        "cmyk": encode(base.convert("CMYK"), "JPEG"),
        "palette-transparent": encode(base.convert("P"), "PNG", transparency=0),
        "la": encode(base.convert("LA"), "PNG"),
        "rgba": encode(base.convert("RGBA"), "PNG"),
        "webp": encode(base, "WEBP"),
        "bmp": encode(base, "BMP"),
        "gray": encode(base.convert("L"), "PNG"),
    }
    for name, data in cases.items():
        im = images.decode_image(data, name)
        assert im.mode == "RGB" and im.size == (64, 48), name
    grey = images.decode_image(cases["png-16bit"])
    np.testing.assert_allclose(np.asarray(grey)[..., 0], np.asarray(base.convert("L")), atol=1)


def test_first_frame_and_first_page():
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "lime", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert images.decode_image(buf.getvalue()).getpixel((5, 5))[0] > 200
    buf = io.BytesIO()
    frames[1].save(buf, "TIFF", save_all=True, append_images=[frames[2]])
    assert images.decode_image(buf.getvalue()).getpixel((5, 5))[1] > 200


def test_exif_orientation_is_applied():
    im = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = images.decode_image(encode(im, "JPEG", exif=exif.tobytes()))
    assert out.size == (20, 40)


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"hello, I am text", "not an image"),
    (encode(photo(1), "JPEG")[:600], "could not be decoded"),
    (encode(photo(1), "PNG")[:300], "could not be decoded"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
])
def test_unusable_bytes_get_one_clear_sentence(data, words):
    with pytest.raises(images.ImageError, match=words):
        images.decode_image(data, "upload.jpg")


def test_sizes_are_capped():
    bomb = encode(Image.new("1", (30000, 30000)), "PNG")
    assert len(bomb) < 200_000
    with pytest.raises(images.ImageError, match="megapixels|too many pixels"):
        images.decode_image(bomb)
    with pytest.raises(images.ImageError, match="at least 8"):
        images.decode_image(encode(Image.new("RGB", (1, 1)), "PNG"))
    with pytest.raises(images.ImageError, match="20:1"):
        images.decode_image(encode(Image.new("RGB", (10, 10000)), "PNG"))
    with pytest.raises(images.ImageError, match="limit"):
        images.decode_image(b"\0" * (images.MAX_BYTES + 1))


def test_samples_load():
    for name in images.SAMPLES:
        assert images.sample(name).mode == "RGB"


RAMP = np.arange(64 * 48, dtype=np.int64).reshape(48, 64)  # every row a different brightness


def _grey(data: bytes) -> np.ndarray:
    im = images.decode_image(data, "wide.tif")
    assert im.mode == "RGB" and im.size == (64, 48)
    return np.asarray(im)[..., 0].astype(int)


def _stretched(values: np.ndarray) -> np.ndarray:
    """The reference: min..max of the data onto 0..255, rounded. Compared exactly: elementwise float64 arithmetic
    and min/max give the same bits on every machine."""
    values = values.astype(np.float64)
    return np.floor((values - values.min()) / (values.max() - values.min()) * 255 + 0.5).astype(int)


def test_32_bit_integer_tiff_is_scaled_by_its_own_range_not_white():
    data = (RAMP * 1000 + 70_000).astype(np.int32)  # beyond 16 bits: the old 0…65535 scale made it all white
    raw = encode(Image.fromarray(data), "TIFF")
    assert Image.open(io.BytesIO(raw)).mode == "I"
    np.testing.assert_array_equal(_grey(raw), _stretched(data))
    negative = encode(Image.fromarray((RAMP - 2000).astype(np.int32)), "TIFF")
    np.testing.assert_array_equal(_grey(negative), _stretched(RAMP - 2000))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_8_bit_values_stored_as_16_bit_keep_their_brightness(fmt):
    data = (RAMP % 256).astype(np.uint16)  # the old 0…65535 scale made these black
    raw = encode(Image.fromarray(data), fmt)
    assert Image.open(io.BytesIO(raw)).mode.startswith("I;16")
    np.testing.assert_array_equal(_grey(raw), data)


def test_16_bit_data_keeps_the_16_bit_scale():
    data = (RAMP * 20).astype(">u2")  # big-endian 16-bit, at most 61420: a little darker than full white
    raw = encode(Image.fromarray(data), "TIFF")
    assert Image.open(io.BytesIO(raw)).mode == "I;16B"
    np.testing.assert_array_equal(_grey(raw), np.floor(data / 65535 * 255 + 0.5).astype(int))


def test_float_tiffs_keep_negatives_and_unit_range():
    signed = np.linspace(-5, 5, 64 * 48).reshape(48, 64).astype(np.float32)
    raw = encode(Image.fromarray(signed), "TIFF")
    assert Image.open(io.BytesIO(raw)).mode == "F"
    got = _grey(raw)
    np.testing.assert_array_equal(got, _stretched(signed))
    assert got.min() == 0 and got.max() == 255 and len(np.unique(got[: 24])) > 100  # the negative half is not cut
    unit = (RAMP / RAMP.max() * 0.5).astype(np.float32)  # floats within 0…1 keep that scale: at most mid-grey
    assert _grey(encode(Image.fromarray(unit), "TIFF")).max() == 128
    holes = signed.copy()
    holes[0, :3] = [np.nan, np.inf, -np.inf]
    assert _grey(encode(Image.fromarray(holes), "TIFF"))[0, :3].tolist() == [0, 255, 0]


def test_outline_unit_marks_exactly_the_units_square():
    """A 4×4 map enlarged to 64×64 (16 px a unit): unit (1, 2) spans rows 16…31 and columns 32…47."""
    grey = Image.new("L", (64, 64), 100)
    out = np.asarray(images.outline_unit(grey, (4, 4), (1, 2)))
    red = np.all(out == images.UNIT_OUTLINE, axis=-1)
    assert red[16, 32:48].all() and red[31, 32:48].all() and red[16:32, 32].all() and red[16:32, 47].all()
    assert not red[17:31, 33:47].any()  # the inside is left as it was
    assert red.sum() == 4 * 15 and (out[~red] == 100).all()  # nothing else drawn: 16 px wide units are not ringed
    # 2 px units get a ring too, centred on the unit: unit (10, 20) of a 32×32 map at 64 px is the square
    # rows 20…21, columns 40…41, centre (21, 41).
    tiny = np.all(np.asarray(images.outline_unit(Image.new("RGB", (64, 64)), (32, 32), (10, 20)))
                  == images.UNIT_OUTLINE, axis=-1)
    assert tiny[20:22, 40:42].all()
    rows, cols = np.nonzero(tiny)
    assert rows.mean() == pytest.approx(21, abs=0.5) and cols.mean() == pytest.approx(41, abs=0.5)
    radius = np.hypot(rows - 21, cols - 41)
    assert radius.max() <= 8 and (radius > 5).sum() > 20  # a ring of radius 6-7 px around it, not a blot
    assert not tiny[21, 44:46].any() and not tiny[24:26, 41].any()  # between the square and the ring: untouched


# --- HEIC/HEIF, orientation, very large photos ---------------------------------------------------------------

def smooth(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Gradients without noise: what a lossy codec keeps well, so the codecs' outputs can be compared closely."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    rgb = np.stack([np.sin(3 * x) * 0.4 + 0.5, np.cos(2 * y) * 0.4 + 0.5, (x + y) / 2], -1)
    return Image.fromarray((rgb * 255).round().astype(np.uint8))


def heif(image: Image.Image, brand: bytes = b"heic", **kw) -> bytes:
    """Encoded by pillow-heif (libheif + x265), then labelled with ``brand``: phones write "heic" (HEVC
    photos); files named .heif often carry the generic "mif1"."""
    data = encode(image, "HEIF", quality=95, **kw)
    assert data[4:12] == b"ftypheic"
    return data[:8] + brand + data[12:]


def _mean_abs(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int32) - np.asarray(b, dtype=np.int32)).mean())


@pytest.mark.parametrize("brand", [b"heic", b"mif1"])
def test_heic_and_heif_photos_decode_to_the_same_pixels_as_a_jpeg(brand):
    base = smooth()
    got = images.decode_image(heif(base, brand), "phone.heic")
    jpeg = images.decode_image(encode(base, "JPEG", quality=95), "phone.jpg")
    assert got.mode == "RGB" and got.size == base.size
    # Codec tolerance: both are lossy (YCbCr with halved chroma, quantised), so each differs from the
    # lossless pixels by a level or two on smooth content; a wrong channel order or size is off by tens.
    assert _mean_abs(got, base) < 2.0 and _mean_abs(got, jpeg) < 2.5
    assert np.abs(np.asarray(got, dtype=int) - np.asarray(base, dtype=int)).max() < 24


def _left_red(size=(40, 20)) -> Image.Image:
    a = np.zeros((size[1], size[0], 3), np.uint8)
    a[:, : size[0] // 2] = (255, 0, 0)  # the left half red: upright after turning 90° clockwise, it is on top
    return Image.fromarray(a)


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_exif_rotated_photo_decodes_upright(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to display
    data = encode(_left_red(), fmt, quality=95, exif=exif.tobytes())
    out = np.asarray(images.decode_image(data, "turned"))
    assert out.shape == (40, 20, 3)
    assert out[: 20 - 3, :, 0].min() > 200 and out[20 + 3:, :, 0].max() < 50  # red on top, black below


def _hostile_heic() -> dict[str, bytes]:
    good = heif(smooth())
    at = good.index(b"ispe") + 8  # the image's width and height (ISO/IEC 23008-12 §6.5.3), 32 bits each
    return {"truncated": good[: len(good) // 2], "header only": good[:200],
            "huge": good[:at] + (60000).to_bytes(4, "big") * 2 + good[at + 8:],
            "larger than its data": good[:at] + (6000).to_bytes(4, "big") * 2 + good[at + 8:]}


@pytest.mark.parametrize("case", list(_hostile_heic()))
def test_hostile_heic_gets_one_clear_message_in_both_languages(case):
    from vggviz import i18n

    with pytest.raises(images.ImageError) as err:
        images.decode_image(_hostile_heic()[case], "photo.heic")
    en = str(err.value)
    with i18n.use("zh"):
        zh = str(err.value)
    for message in (en, zh):
        assert message.startswith("photo.heic") and "\n" not in message and "Traceback" not in message
    assert en != zh and any("\u4e00" <= c <= "\u9fff" for c in zh)


def test_very_large_photos_are_scaled_down_early_and_feed_the_model_the_same():
    from vggviz.photo import inference

    w, h = 5000, 3000  # 15 MP; a JPEG this size is decoded at half scale (draft), then to at most MAX_SIDE
    big = smooth((w, h))
    data = encode(big, "JPEG", quality=90)
    resampled = []
    thumbnail = Image.Image.thumbnail
    with pytest.MonkeyPatch.context() as mp:  # what the final resize starts from: the half-scale JPEG decode
        mp.setattr(Image.Image, "thumbnail", lambda im, *a, **k: resampled.append(im.size) or thumbnail(im, *a, **k))
        got = images.decode_image(data, "big.jpg")
    assert resampled == [(w // 2, h // 2)]
    assert max(got.size) == images.MAX_SIDE and got.size == (images.MAX_SIDE, round(images.MAX_SIDE * h / w))
    full = Image.open(io.BytesIO(data)).convert("RGB")  # the reference: Pillow's full-size decode
    assert full.size == (w, h)
    for kind in ("imagenet", "lecture"):
        t = inference.transform(kind)
        a, b = t(got), t(full)
        # Tolerance: two resampling paths (DCT scaling + bicubic vs one antialiased resize) differ by a
        # level or so of 255 at most pixels, ~0.02 after normalising (divided by a std of ~0.22).
        assert a.shape == b.shape and float((a - b).abs().mean()) < 0.02 and float((a - b).abs().max()) < 0.15
    png = images.decode_image(encode(smooth((3000, 1000)), "PNG"), "big.png")  # no draft: scaled after decoding
    assert png.size == (images.MAX_SIDE, round(images.MAX_SIDE / 3))
