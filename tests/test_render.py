import numpy as np
import pytest

from vggviz.photo import render


def test_tile_places_each_channel_in_reading_order():
    maps = np.zeros((5, 2, 3), np.float32)
    for c in range(5):
        maps[c, 0, 0] = 1.0  # each channel: one bright pixel top-left, the rest dark
    grid = np.asarray(render.tile(maps, cols=3, pad=1).convert("RGB"))
    assert grid.shape == (2 * 2 + 1, 3 * 3 + 2, 3)
    bright, dark = render.lut()[254], render.lut()[0]
    for c in range(5):
        r, k = divmod(c, 3)
        assert (grid[r * 3, k * 4] == bright).all() and (grid[r * 3 + 1, k * 4 + 1] == dark).all()
    assert (grid[3:, 8:] == 255).all()  # the sixth cell is empty: white
    assert (grid[2] == 255).all()  # padding row


def test_shared_scale_keeps_relative_brightness():
    maps = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)]).astype(np.float32)
    maps[:, 0, 0] = 0
    per = render.normalise(maps, shared=False)
    shared = render.normalise(maps, shared=True)
    # float32 scaling: x · (1/x) is 1 and 1/3 is 1/3 up to float32 rounding (shared vs per channel: 1/3 vs 1)
    assert per[0].max() == pytest.approx(1, rel=1e-6) and per[1].max() == pytest.approx(1, rel=1e-6)
    assert shared[0].max() == pytest.approx(1 / 3, rel=1e-6) and shared[1].max() == pytest.approx(1, rel=1e-6)


def test_top_channels_by_mean_activation():
    maps = np.stack([np.full((2, 2), v) for v in (0.1, 3.0, 2.0, 5.0)])
    assert list(render.select_channels(maps, 2)) == [3, 1]
    assert list(render.select_channels(maps, None)) == [0, 1, 2, 3]


def test_stats_and_filters():
    s = render.stats(np.array([[0.0, 2.0], [0.0, 4.0]]))
    assert s == {"min": 0.0, "max": 4.0, "mean": 1.5, "zeros": 0.5}  # exact: sums of small integers, / 4
    patches = render.filters_rgb(np.random.default_rng(0).normal(size=(64, 3, 3, 3)), scale=4, pad=2)
    assert patches.shape == (8 * 12 + 7 * 2, 8 * 12 + 7 * 2, 3)


def test_wide_grids_are_averaged_down_to_the_display_width():
    maps = np.zeros((4, 8, 8), np.float32)
    maps[:, :2, :2] = 1.0  # one bright 2x2 block per channel: one bright pixel after 2x averaging
    full = render.tile(maps, cols=4, pad=1)
    small = render.tile(maps, cols=4, pad=1, max_width=20)
    assert full.size == (4 * 9 - 1, 8) and small.size == (4 * 5 - 1, 4)
    rgb = np.asarray(small.convert("RGB"))
    assert (rgb[0, 0] == render.lut()[254]).all() and (rgb[1, 1] == render.lut()[0]).all()


def test_top_channels_after_relu_ignore_negative_activations():
    maps = np.stack([np.array([[5.0, -9.0]]), np.array([[2.0, 0.0]]), np.array([[1.0, 1.0]])])
    assert list(render.select_channels(maps, 1)) == [1]  # raw means -2, 1, 1: a tie, the first wins
    assert list(render.select_channels(maps, 1, relu=True)) == [0]  # after ReLU: 2.5, 1, 1


def test_half_precision_maps_render_like_float32_and_relu_rectifies_first():
    rng = np.random.default_rng(1)
    maps = rng.normal(size=(6, 40, 40)).astype(np.float16)
    as32 = maps.astype(np.float32)
    for shared in (False, True):  # exact throughout: float16 widens to float32 exactly, then the same arithmetic
        for relu in (False, True):
            expected = render.tile(np.maximum(as32, 0) if relu else as32, shared=shared, max_width=100)
            got = render.tile(maps, shared=shared, max_width=100, relu=relu)
            assert np.array_equal(np.asarray(got), np.asarray(expected))
    original = maps.copy()
    render.tile(as32, relu=True)
    render.tile(maps, relu=True)
    assert np.array_equal(maps, original) and (as32 < 0).any()  # neither input was rectified in place
    assert render.stats(maps[0]) == render.stats(as32[0])
    assert list(render.select_channels(maps, 3, relu=True)) == list(render.select_channels(as32, 3, relu=True))


def test_box_average_equals_the_block_mean():
    maps = np.random.default_rng(2).normal(size=(3, 13, 11)).astype(np.float16)
    for f in (1, 2, 3, 4):
        h, w = 13 // f, 11 // f
        expected = maps[:, : h * f, : w * f].astype(np.float64).reshape(3, h, f, w, f).mean(axis=(2, 4))
        got = render.box_average(maps, f)
        assert got.dtype == np.float32 and got.shape == (3, h, w)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_png_is_lossless_and_jpeg_close_both_scaled_down_to_the_display_width():
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (28, 28, 3)), np.ones((8, 8, 1))).astype(np.uint8)  # 224×224 blocks
    png, jpeg = render.png(smooth), render.jpeg(smooth)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), smooth)
    seen = Image.open(io.BytesIO(jpeg))
    assert seen.format == "JPEG" and seen.size == (224, 224)
    from PIL import JpegImagePlugin

    assert JpegImagePlugin.get_sampling(seen) == 0  # 4:4:4: colour kept at full resolution
    assert np.abs(np.asarray(seen, np.float32) - smooth).mean() < 0.4  # quality 95 (75 would give 0.45)
    wide = Image.fromarray(np.zeros((20, 2 * render.DISPLAY_WIDTH, 3), np.uint8))
    for encoded in (render.png(wide), render.jpeg(wide)):
        assert Image.open(io.BytesIO(encoded)).size == (render.DISPLAY_WIDTH, 10)
