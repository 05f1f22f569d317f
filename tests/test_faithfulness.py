"""Deletion / insertion, Average Drop / Increase in Confidence and ROAD, each against a computation written here
from its definition (or grad-cam's metric called directly) on torchvision's vgg11 with the same weights; the
planted model, where Grad-CAM must beat a random map; the compare table; bad input."""

import math

import numpy as np
import pytest

import torch  # noqa: E402
from pytorch_grad_cam.metrics.road import (  # noqa: E402
    ROADLeastRelevantFirstAverage, ROADMostRelevantFirstAverage,
)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget  # noqa: E402

from test_attributions import MEAN, STD, SIZE, Planted, pair, x  # noqa: E402,F401  (pair, x: fixtures)
from vggviz import i18n  # noqa: E402
from vggviz.explain import attributions as A  # noqa: E402
from vggviz.explain import cams as C  # noqa: E402
from vggviz.explain import faithfulness as F  # noqa: E402
from vggviz.explain import twin as T  # noqa: E402

STEPS = 4
NORM = "imagenet"  # how x is normalised (MEAN, STD)


@pytest.fixture(scope="module")
def target(pair, x):
    with torch.no_grad():
        return int(pair[1](x).argmax())


def probability(ref, image, target):
    with torch.no_grad():
        return float(torch.softmax(ref(image), 1)[0, target])


def gaussian_blur_by_hand(x, size=11, sigma=5.0):
    """A separable Gaussian (sampled, normalised) with reflected borders: RISE's insertion substrate."""
    half = size // 2
    g = torch.exp(-0.5 * (torch.arange(-half, half + 1, dtype=torch.float64) / sigma) ** 2)
    g = (g / g.sum()).float()
    padded = torch.nn.functional.pad(x, (half, half, half, half), mode="reflect")
    rows = torch.nn.functional.conv2d(padded, g.view(1, 1, 1, size).repeat(3, 1, 1, 1), groups=3)
    return torch.nn.functional.conv2d(rows, g.view(1, 1, size, 1).repeat(3, 1, 1, 1), groups=3)


def curves_by_hand(ref, x, sal, target, steps):
    """The definition, one image and one forward at a time: pixels most important first, ties by pixel index;
    at step k the top ⌊k·H·W/S⌋ are deleted (set to 0) or inserted (into the blurred copy)."""
    flat = sal.ravel().tolist()
    order = sorted(range(len(flat)), key=lambda i: (-flat[i], i))
    blur = gaussian_blur_by_hand(x)
    deletion, insertion = [], []
    for k in range(steps + 1):
        chosen = torch.tensor(order[:math.floor(k * len(flat) / steps)], dtype=torch.long)
        gone, back = x.clone().view(3, -1), blur.clone().view(3, -1)
        gone[:, chosen] = 0
        back[:, chosen] = x.view(3, -1)[:, chosen]
        deletion.append(probability(ref, gone.view_as(x), target))
        insertion.append(probability(ref, back.view_as(x), target))
    return deletion, insertion


def trapezoid_by_hand(p):
    s = len(p) - 1
    return sum((p[k] + p[k + 1]) / 2 for k in range(s)) / s


def test_deletion_and_insertion_equal_the_definition(pair, x, target):
    lm, ref = pair
    sal = np.random.default_rng(3).integers(0, 4, (SIZE, SIZE)).astype(float)  # many ties
    scores = F.evaluate(A.attributor(lm), x, NORM, sal, target, steps=STEPS, road=(), baselines=())["map"]
    deletion, insertion = curves_by_hand(ref, x, sal, target, STEPS)
    np.testing.assert_allclose(scores.deletion, deletion, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(scores.insertion, insertion, rtol=1e-4, atol=1e-7)
    assert scores.deletion_auc == pytest.approx(trapezoid_by_hand(deletion), rel=1e-4)
    assert scores.insertion_auc == pytest.approx(trapezoid_by_hand(insertion), rel=1e-4)
    assert scores.road_morf is None and scores.road_lerf is None


def test_pixel_attributions_are_ranked_by_the_sum_of_their_magnitudes():
    attr = np.random.default_rng(0).normal(size=(3, 5, 6))
    np.testing.assert_allclose(F.saliency(attr), np.abs(attr[0]) + np.abs(attr[1]) + np.abs(attr[2]))
    assert F.ranking(np.array([[1.0, 3.0], [3.0, 0.5]])).tolist() == [1, 2, 0, 3]  # ties by pixel index


def test_average_drop_and_increase_in_confidence_follow_the_formula(pair, x, target):
    lm, ref = pair
    sal = np.random.default_rng(5).random((SIZE, SIZE)) * 7 - 2
    scores = F.evaluate(A.attributor(lm), x, NORM, sal, target, steps=2, road=())
    y = probability(ref, x, target)
    m = torch.from_numpy((sal - sal.min()) / (sal.max() - sal.min())).float()
    o = probability(ref, ((x * STD + MEAN) * m - MEAN) / STD, target)  # the photo times the map, normalised
    assert scores["map"].average_drop == pytest.approx(max(0.0, y - o) / y, rel=1e-4, abs=1e-7)
    assert scores["map"].increase_in_confidence == float(o > y)
    assert 0 <= scores["random"].average_drop <= 1 and 0 <= scores["sobel"].average_drop <= 1


@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")  # inside grad-cam
def test_road_equals_grad_cams_metric_called_directly(pair, x, target):
    lm, ref = pair
    sal = np.random.default_rng(7).random((SIZE, SIZE))  # no ties: the library's percentiles and our ranks agree
    percentiles = [30, 70]
    ours = F.evaluate(A.attributor(lm), x, NORM, sal, target, steps=2, road=percentiles, baselines=())["map"]
    targets = [ClassifierOutputSoftmaxTarget(target)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(F.SEED)
        morf = ROADMostRelevantFirstAverage(percentiles)(x, sal[None].astype(np.float32), targets, ref)[0]
        lerf = ROADLeastRelevantFirstAverage(percentiles)(x, sal[None].astype(np.float32), targets, ref)[0]
    assert ours.road_morf == pytest.approx(float(morf), abs=1e-6)
    assert ours.road_lerf == pytest.approx(float(lerf), abs=1e-6)


def test_road_of_a_map_full_of_ties_is_a_number(pair, x, target):
    lm, _ = pair
    sal = np.zeros((SIZE, SIZE))
    sal[:8, :8] = 1  # a CAM-like map: mostly zeros
    scores = F.evaluate(A.attributor(lm), x, NORM, sal, target, steps=2, road=[50], baselines=["sobel"])
    assert len(scores) == 2 and all(math.isfinite(v) for s in scores.values() for v in (s.road_morf, s.road_lerf))


def test_on_the_planted_model_gradcam_beats_the_random_map(x):
    """The logits depend on the top-left quadrant only: a faithful map deletes it first (the probability falls
    sooner) and inserts it first (the photo's probability comes back sooner)."""
    planted = Planted().eval()
    att = A.Attributor(planted, T.relu_layers(planted.vgg))
    with torch.no_grad():
        probs = torch.softmax(planted(torch.cat([x, torch.zeros_like(x), F.blurred(x)])), 1)
    target = int((probs[0] - probs[1:].max(0).values).argmax())  # the class the quadrant's content supports most
    attr = att.attribute(x, A.Params("gradcam", target, layer="conv3_2"))
    scores = F.evaluate(att, x, NORM, attr, target, steps=8, road=(), baselines=["random"])
    assert scores["map"].deletion_auc < scores["random"].deletion_auc
    assert scores["map"].insertion_auc > scores["random"].insertion_auc
    assert T.hook_count(planted) == 0


def test_the_compare_table_scores_every_method_and_the_baselines(pair, x, target):
    lm, _ = pair
    att = A.attributor(lm)
    calls = []
    rows = F.compare(att, x, NORM, target, "conv5_2", ["saliency", "layercam", "eigencam"], steps=2,
                     progress=calls.append)
    assert [r.method for r in rows] == ["saliency", "layercam", "eigencam", "random", "sobel"]
    layercam_map = C.cam(att, x, C.CamParams("layercam", target, layer="conv5_2"))
    alone = F.evaluate(att, x, NORM, layercam_map, target, 2, road=(), baselines=["sobel"])
    layercam = rows[1]
    assert layercam.deletion_auc == pytest.approx(alone["map"].deletion_auc, rel=1e-5)
    assert layercam.insertion_auc == pytest.approx(alone["map"].insertion_auc, rel=1e-5)
    assert layercam.average_drop == pytest.approx(alone["map"].average_drop, rel=1e-5, abs=1e-9)
    assert rows[-1].deletion_auc == pytest.approx(alone["sobel"].deletion_auc, rel=1e-5)
    assert all(r.seconds > 0 for r in rows[:3]) and rows[-1].seconds is None
    assert calls == sorted(calls) and calls[-1] == 1.0  # exact: n / n
    assert T.hook_count(att.model) == 0


def test_the_json_contract():
    s = F.Scores((0.9, 0.5, 0.1), (0.2, 0.6, 0.9), 0.25, 0.0, -0.1, 0.05)
    out = F.report("layercam", 3, 2, {"map": s, "random": s, "sobel": s})
    numbers = {"deletion_auc", "insertion_auc", "average_drop", "increase_in_confidence", "road_morf", "road_lerf"}
    assert set(out) == {"method", "target", "steps", "curves", "baselines"} | numbers
    assert set(out["curves"]) == {"deletion", "insertion"} and len(out["curves"]["deletion"]) == 3
    assert set(out["baselines"]) == {"random", "sobel"}
    assert set(out["baselines"]["sobel"]) == numbers | {"curves"}
    assert out["deletion_auc"] == pytest.approx(0.5) and out["insertion_auc"] == pytest.approx(0.575)


@pytest.mark.parametrize("steps, sal, code", [(1, np.ones((SIZE, SIZE)), "steps"), (4, np.ones((8, 8)), "shape")])
def test_bad_input_is_one_clear_translated_error(pair, x, steps, sal, code):
    lm, _ = pair
    with pytest.raises(F.MetricsError) as err:
        F.evaluate(A.attributor(lm), x, NORM, sal, 1, steps=steps, road=(), baselines=())
    assert err.value.code == code and isinstance(err.value, ValueError)
    english = str(err.value)
    with i18n.use("zh"):
        assert str(err.value) != english


def test_the_photos_shown_at_a_few_steps(x):
    from vggviz.photo.inference import to_photo

    mean, std = MEAN.flatten().tolist(), STD.flatten().tolist()
    sal = np.random.default_rng(1).random((SIZE, SIZE))
    start, gone = F.photos(x, NORM, sal, 4, "deletion", [0, 4])
    np.testing.assert_array_equal(start, to_photo(x[0].numpy(), mean, std))
    mean_colour = np.round(np.asarray(mean) * 255).astype(np.uint8)
    # every pixel deleted: the dataset's mean colour (255·mean = 123.7, 116.3, 103.5: far from a rounding edge)
    assert (gone == mean_colour).all()
    blurred, back = F.photos(x, NORM, sal, 4, "insertion", [0, 4])
    by_hand = to_photo(gaussian_blur_by_hand(x)[0].numpy(), mean, std)
    assert np.abs(blurred.astype(int) - by_hand).max() <= 1  # rounding to uint8
    np.testing.assert_array_equal(back, start)  # exact: every pixel put back is x's own, copied
