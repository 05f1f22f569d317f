"""The effective receptive field against independent references: plain torch autograd on torchvision's
own VGG with the same weights, a brute-force search for the mass squares, the slides' experiment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import batch_norm_not_identity, photo, torchvision_twin
from vggviz import i18n
from vggviz.architecture.layers import layer_table
from vggviz.architecture.lecture import stack_vs_single

import torch  # noqa: E402
from torchvision import transforms  # noqa: E402

from vggviz.architecture.model import build_model  # noqa: E402
from vggviz.explain import erf  # noqa: E402
from vggviz.explain.picking import PickError  # noqa: E402
from vggviz.photo import inference  # noqa: E402

SIZE = (64, 64)


def loaded(model, half: bool = False) -> inference.LoadedModel:
    lm = inference.LoadedModel(model, model.config, "test", inference.imagenet_classes(), "imagenet",
                               torch.device("cpu"))
    lm = inference.to_device(lm, torch.device("cpu"), False)
    if half:  # to_device keeps the CPU in float32; the GPU's float16 path, forced here on the CPU
        lm.model.half()
        lm.dtype = torch.float16
    return lm


@pytest.fixture(scope="module")
def vgg11():
    model = build_model("A", seed=4)
    return loaded(model), torchvision_twin("vgg11", model)


@pytest.fixture(scope="module")
def vgg11_bn():
    model = build_model("A-BN", seed=5)
    batch_norm_not_identity(model, 0)
    return loaded(model), torchvision_twin("vgg11_bn", model)


def autograd_erf(reference, relu_index: int, x: torch.Tensor, unit: tuple[int, int]) -> np.ndarray:
    """The definition, written out: mean over inputs of Σ_rgb |∂(Σ_c y_c[i, j]) / ∂x|, y after the ReLU
    at ``relu_index`` of torchvision's features (its ReLUs are in place, hence the clone)."""
    x = x.clone().requires_grad_(True)
    y = reference.features[:relu_index + 1](x.clone())
    (grad,) = torch.autograd.grad(y[:, :, unit[0], unit[1]].sum(), x)
    return grad.abs().sum(1).mean(0).numpy()


@pytest.mark.parametrize("layer, relu_index, unit", [
    ("conv1_1", 1, (0, 63)),  # a corner: the field runs over the zero padding
    ("conv3_2", 9, None),  # the centre unit
    ("conv4_1", 12, (1, 6)),
])
def test_erf_equals_the_autograd_gradient_on_torchvisions_vgg11(vgg11, layer, relu_index, unit):
    lm, reference = vgg11
    x = erf.noise(3, SIZE, seed=2)
    got = erf.measure(lm, x, layer, unit, batch=2)
    row = next(r for r in layer_table("A", SIZE) if r.name == layer)
    expected_unit = unit or (row.out_shape[1] // 2, row.out_shape[2] // 2)
    assert got.unit == expected_unit and got.samples == 3 and got.input_size == SIZE and got.rf == row.rf
    expected = autograd_erf(reference, relu_index, x, expected_unit)
    np.testing.assert_allclose(got.map, expected, rtol=1e-4, atol=1e-6 * expected.max())
    assert expected.sum() > 0


def test_erf_after_batch_norm_and_on_a_photo(vgg11_bn):
    lm, reference = vgg11_bn
    x = erf.photo_input(photo(3), "imagenet", SIZE)
    # The photo as torchvision's own transforms prepare it at this size.
    tv = transforms.Compose([transforms.Resize(SIZE), transforms.ToTensor(),
                             transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    np.testing.assert_allclose(x[0].numpy(), tv(photo(3)).numpy(), atol=2e-2)
    got = erf.measure(lm, x, "conv2_1", (10, 5))
    np.testing.assert_allclose(got.map, autograd_erf(reference, 6, x, (10, 5)), rtol=1e-4, atol=1e-7)


def test_float16_on_the_cpu_matches_float32(vgg11):
    lm, _ = vgg11
    copy = build_model("A", seed=None)
    copy.load_state_dict(lm.model.state_dict())
    half = loaded(copy, half=True)
    x = erf.noise(2, SIZE, seed=1)
    full, low = erf.measure(lm, x, "conv2_1"), erf.measure(half, x, "conv2_1")
    assert low.map.dtype == np.float32
    # float16 flips the ReLU of a few near-zero activations; the map and its figures stay the same.
    assert np.abs(low.map - full.map).mean() < 0.01 * full.map.max()
    for fraction, side in full.mass_sides.items():
        assert low.mass_sides[fraction] == pytest.approx(side, rel=0.05)


def brute_force_side(m: np.ndarray, centre: tuple[float, float], fraction: float, f: int = 8) -> float:
    """Each pixel cut into f×f sub-pixels of equal mass; the smallest centred square of whole sub-pixels
    holding ``fraction``, found by trying every size. Within 2/f pixels of the exact side."""
    fine = np.kron(m, np.ones((f, f))) / f**2
    cy, cx = ((c + 0.5) * f - 0.5 for c in centre)  # the centre in sub-pixel indices
    total = fine.sum()
    for side in range(1, 2 * max(fine.shape) + 2):
        half = (side - 1) / 2
        r0, r1 = math.ceil(cy - half - 1e-9), math.floor(cy + half + 1e-9)
        c0, c1 = math.ceil(cx - half - 1e-9), math.floor(cx + half + 1e-9)
        if r1 - r0 + 1 != side or c1 - c0 + 1 != side:
            continue  # a square of this size cannot be centred there
        inside = fine[max(r0, 0):max(r1 + 1, 0), max(c0, 0):max(c1 + 1, 0)].sum()
        if inside >= fraction * total:
            return side / f
    raise AssertionError("no square holds it")


@pytest.mark.parametrize("centre", [(10.0, 12.0), (10.5, 9.5), (2.5, 17.0), (0.0, 0.0)])
def test_mass_sides_equal_a_brute_force_search(centre):
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:20, 0:24]
    m = np.exp(-((y - centre[0]) ** 2 + (x - centre[1]) ** 2) / 30) * rng.uniform(0.5, 1.5, (20, 24))
    sides = erf.mass_sides(m, centre)
    assert list(sides) == [0.2, 0.5, 0.9, 0.99]
    for fraction, side in sides.items():
        assert abs(side - brute_force_side(m, centre, fraction)) <= 2 / 8, fraction


def test_mass_sides_known_shapes():
    block = np.zeros((21, 21))
    block[7:14, 7:14] = 1  # a uniform 7×7 square: p of it lies in a square of side 7·√p
    for fraction, side in erf.mass_sides(block, (10, 10)).items():
        assert side == pytest.approx(7 * math.sqrt(fraction), abs=1e-6)
    dot = np.zeros((5, 6))
    dot[2, 3] = 4.0  # one pixel: side √p of its unit square
    assert erf.mass_sides(dot, (2, 3))[0.5] == pytest.approx(math.sqrt(0.5), abs=1e-6)
    assert erf.mass_sides(np.zeros((4, 4)), (2, 2)) == {0.2: None, 0.5: None, 0.9: None, 0.99: None}


def test_record_has_the_documented_keys_and_the_area_ratio(vgg11):
    lm, _ = vgg11
    e = erf.measure(lm, erf.noise(1, SIZE), "conv2_1", (3, 4))
    record = e.record()
    assert set(record) == {"config", "layer", "unit", "input_size", "samples", "rf", "rf_box", "mass_sides",
                           "area_ratio"}
    assert set(record["mass_sides"]) == {"0.2", "0.5", "0.9", "0.99"}
    assert record["rf"] == 8 and record["unit"] == [3, 4] and record["input_size"] == [64, 64]
    # conv2_1 of A: unit u is centred at 0.5 + 2u and sees 8 pixels: rows 3…10, columns 5…12 (halves: exact).
    assert record["rf_box"] == [3, 5, 10, 12] and e.centre == (6.5, 8.5)
    assert record["area_ratio"] == pytest.approx((e.mass_sides[0.9] / 8) ** 2, abs=1e-4)
    assert all(s <= 8 + 1e-6 for s in e.mass_sides.values())  # the gradient never leaves the theoretical box


def test_cross_section_averages_the_two_lines_of_a_half_pixel_centre():
    m = np.arange(30, dtype=float).reshape(5, 6)  # integers: their means of two are exact, so is equality
    profiles = erf.cross_section(m, (1.5, 2.0))
    offsets, row = profiles["horizontal"]
    np.testing.assert_array_equal(offsets, np.arange(6) - 2.0)
    np.testing.assert_array_equal(row, (m[1] + m[2]) / 2)
    offsets, col = profiles["vertical"]
    np.testing.assert_array_equal(offsets, np.arange(5) - 1.5)
    np.testing.assert_array_equal(col, m[:, 2])


def test_every_layer_grows_slower_than_the_theoretical_field(vgg11):
    lm, _ = vgg11
    x = erf.noise(2, SIZE, seed=3)
    done = []
    erfs = erf.every_layer(lm, x, progress=done.append)
    rows = {r.name: r for r in layer_table("A", SIZE)}
    assert [e.layer for e in erfs] == [n for n, r in rows.items() if r.type == "conv"]
    assert done[-1] == 1.0 and len(done) == len(erfs)  # exact: n / n
    assert [e.rf for e in erfs] == [rows[e.layer].rf for e in erfs]
    ratios = [e.mass_sides[0.5] / e.rf for e in erfs]
    assert ratios[-1] < ratios[1]  # the ERF occupies a shrinking fraction of the field


def test_the_slides_experiment_stacked_is_more_concentrated_on_every_seed():
    exp = erf.stack_experiment(n=3, channels=16, seeds=6, samples=8)
    assert exp.comparison == stack_vs_single(3, 16)
    assert (exp.comparison.stacked_params, exp.comparison.single_params) == (27 * 16**2, 49 * 16**2)
    assert exp.stacked.shape == exp.single.shape == (15, 15)
    for stacked, single in zip(exp.stacked_sides, exp.single_sides):
        assert stacked[0.5] < single[0.5]
        assert stacked[0.99] <= 7 + 1e-6 and single[0.99] <= 7 + 1e-6  # both inside the 7×7 field


def test_bad_requests_are_one_translated_sentence(vgg11):
    lm, _ = vgg11
    x = erf.noise(1, SIZE)
    with pytest.raises(PickError) as info:
        erf.measure(lm, x, "conv9_9")
    assert "conv9_9" in str(info.value) and "conv5_2" in str(info.value)
    with pytest.raises(PickError) as info:
        erf.measure(lm, x, "pool2")
    assert info.value.code == "not_conv"
    with pytest.raises(PickError) as info:
        erf.measure(lm, x, "conv2_1", (40, 0))
    assert "31" in str(info.value) and "(40, 0)" in str(info.value)
    with i18n.use("zh"):
        assert "conv2_1" in str(info.value) and str(info.value) != info.value.MESSAGES["unit"]
    with pytest.raises(PickError):
        erf.noise(0, SIZE)


# REFERENCE.md §7: untrained torchvision VGG-16, 8 noise inputs, 224², centre unit after ReLU; sides holding
# 20 / 50 / 90 / 99 % of the mass, in whole pixels.
REFERENCE_SIDES = {"conv2_2": (5, 9, 13, 15), "conv3_3": (11, 19, 31, 39)}


@pytest.mark.slow
def test_untrained_vgg16_agrees_with_the_reference_figures():
    lm = inference.load_model("D", "random")
    # 96² instead of 224²: both fields lie far from the border there too, so nothing changes but the cost.
    x = erf.noise(8, (96, 96), seed=0)
    for layer, sides in REFERENCE_SIDES.items():
        ours = list(erf.measure(lm, x, layer).mass_sides.values())
        # Whole pixels round a side up (and a box centred between pixels by one more); ours are exact.
        for reference, side in zip(sides, ours):
            assert reference - 3 <= side <= reference + 0.5, (layer, sides, ours)
