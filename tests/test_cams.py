"""The CAM family against pytorch-grad-cam called directly on torchvision's vgg11 with the same weights; the
shared pass, the per-block strip, progress, cancelling, hooks, half precision and bad input."""

import math
import threading

import numpy as np
import pytest

import torch  # noqa: E402
import pytorch_grad_cam as grad_cam  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

from test_attributions import SIZE, pair, x  # noqa: E402,F401  (fixtures: our vgg11 and torchvision's, same weights)
from vggviz import i18n  # noqa: E402
from vggviz.architecture.model import build_model  # noqa: E402
from vggviz.explain import attributions as A  # noqa: E402
from vggviz.explain import cams as C  # noqa: E402
from vggviz.explain import twin as T  # noqa: E402
from vggviz.photo.inference import LoadedModel, imagenet_classes  # noqa: E402

# torchvision vgg11: the ReLU after conv1_1 is features[1], after conv3_2 features[9], after conv5_2 features[19].
RELU = {"conv1_1": 1, "conv3_2": 9, "conv5_2": 19}
LIBRARY = {"gradcam_plus_plus": grad_cam.GradCAMPlusPlus, "xgradcam": grad_cam.XGradCAM,
           "layercam": grad_cam.LayerCAM, "hirescam": grad_cam.HiResCAM, "eigencam": grad_cam.EigenCAM,
           "scorecam": grad_cam.ScoreCAM, "ablationcam": grad_cam.AblationCAM}
BATCH = 32
LAYER = "conv1_1"  # 64 channels: two batches keep the per-channel methods short


@pytest.fixture(scope="module")
def target(pair, x):
    """The class the reference predicts: a positive logit, so that Ablation-CAM's relative drops mean something."""
    with torch.no_grad():
        return int(pair[1](x).argmax())


@pytest.fixture(scope="module")
def direct(pair, x):
    """grad-cam on torchvision's model, as its README calls it; each result computed once for this module."""
    ref = pair[1]
    found = {}

    def run(method, target, layer=LAYER, **options):
        key = (method, target, layer, tuple(sorted(options.items())))
        if key not in found:
            kw = {"batch_size": BATCH} if method == "ablationcam" else {}
            with LIBRARY[method](model=ref, target_layers=[ref.features[RELU[layer]]], **kw) as engine:
                engine.batch_size = BATCH
                found[key] = engine(input_tensor=x, targets=[ClassifierOutputTarget(target)], **options)[0]
        return found[key]
    return run


def untouched(att, lm):
    assert T.hook_count(att.model) == 0 and T.hook_count(lm.model) == 0
    assert not any(isinstance(m, grad_cam.AblationLayer) for m in att.model.modules())
    assert all(isinstance(att.model.features[i], torch.nn.ReLU) for i in RELU.values())
    # The no-grad loops run with ReLUs in place; captum's methods need them out of place again afterwards.
    assert not any(m.inplace for m in att.model.modules() if isinstance(m, torch.nn.ReLU))


@pytest.mark.parametrize("method, options", [(m, {}) for m in C.LIBRARY] + [
    ("eigencam", {"aug_smooth": True}), ("gradcam_plus_plus", {"eigen_smooth": True})])
def test_each_method_equals_grad_cam_called_directly(pair, x, target, direct, method, options):
    lm, _ = pair
    layer = "conv5_2" if method == "eigencam" or options.get("eigen_smooth") else LAYER  # the SVD wants few positions
    expected = direct(method, target, layer, **options)
    att = A.attributor(lm)
    ours = att.attribute(x, C.CamParams(method, target, layer=layer, batch=BATCH, **options))
    assert ours.shape == (SIZE, SIZE) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)
    assert np.ptp(ours) > 0.1  # not a flat map
    untouched(att, lm)


def test_the_default_layer_is_the_last_conv(pair, x, direct):
    att = A.attributor(pair[0])
    np.testing.assert_allclose(C.cam(att, x, C.CamParams("hirescam", 3)), direct("hirescam", 3, "conv5_2"),
                               rtol=1e-4, atol=1e-5)


def test_strip_equals_one_layer_at_a_time(pair, x, target, direct):
    lm, _ = pair
    att = A.attributor(lm)
    strip = C.strip(att, x, target, ["conv5_2", "conv1_1", "conv3_2"], "layercam")
    assert list(strip) == ["conv1_1", "conv3_2", "conv5_2"]  # model order, whatever order they were asked in
    for name, got in strip.items():
        np.testing.assert_allclose(got, direct("layercam", target, name), rtol=1e-4, atol=1e-5)
    untouched(att, lm)


def test_the_family_shares_one_pass_and_equals_each_method(pair, x, target, direct):
    lm, _ = pair
    att = A.attributor(lm)
    calls = []
    methods = [m for m in C.LIBRARY if m != "eigencam"]  # Eigen-CAM's SVD refuses conv1_1's 64 × 64 positions
    found = C.family(att, x, target, LAYER, methods, batch=BATCH, progress=calls.append)
    assert list(found) == methods
    for method, (got, seconds) in found.items():
        np.testing.assert_allclose(got, direct(method, target), rtol=1e-4, atol=1e-5, err_msg=method)
        assert seconds > 0
    per_channel = math.ceil(64 / BATCH)
    # One forward (+ backward) for every method, then Score-CAM's batches, Ablation-CAM's unablated pass and batches.
    assert len(calls) == 1 + per_channel + 1 + per_channel and calls[-1] == 1.0  # exact: n / n
    untouched(att, lm)


@pytest.mark.parametrize("method", ["scorecam", "ablationcam"])
def test_cancel_between_batches_leaves_the_twin_as_it_was(pair, x, target, method):
    lm, _ = pair
    att = A.attributor(lm)
    cancel = threading.Event()
    calls = []

    def progress(f):
        calls.append(f)
        if len(calls) == 2:
            cancel.set()

    with pytest.raises(C.Cancelled):
        C.cam(att, x, C.CamParams(method, target, layer=LAYER, batch=16), progress, cancel)
    assert len(calls) == 2 and calls[-1] < 1  # stopped before the next batch, not at the end
    untouched(att, lm)  # hooks gone, Ablation-CAM's swapped layer back


class Interrupted(BaseException):
    """What Streamlit raises inside a progress update when the user clicks during a run."""


@pytest.mark.parametrize("method, at_call", [("layercam", 1), ("ablationcam", 3)])  # 3: with the layer swapped
def test_no_hook_remains_after_an_interruption(pair, x, method, at_call):
    lm, _ = pair
    att = A.attributor(lm)
    calls = []

    def progress(f):
        calls.append(f)
        if len(calls) == at_call:
            raise Interrupted

    with pytest.raises(Interrupted):
        C.cam(att, x, C.CamParams(method, 3, layer=LAYER, batch=BATCH), progress)
    untouched(att, lm)


def test_estimate_counts_the_batched_forwards(pair, x):
    lm, _ = pair
    att = A.attributor(lm)
    est = C.estimate(att, x, C.CamParams("scorecam", 1, layer="conv4_1", batch=8))
    assert (est.forwards, est.batch) == (64, 8) and est.seconds > 0  # 512 channels / 8
    assert C.estimate(att, x, C.CamParams("ablationcam", 1, layer="conv1_1", batch=24, aug_smooth=True)).forwards \
        == 3 * 6  # ⌈64 / 24⌉ batches for each of the library's six test-time augmentations
    assert C.passes(True) == len(grad_cam.base_cam.BaseCAM(torch.nn.Linear(1, 1), []).tta_transforms)


@pytest.mark.parametrize("make, code", [
    (lambda att, image: C.CamParams("magic", 1), "method"),
    (lambda att, image: C.CamParams("eigencam", 1, eigen_smooth=True), "eigen_smooth"),
    (lambda att, image: C.CamParams("scorecam", 1, batch=0), "batch"),
    (lambda att, image: C.cam(att, image, C.CamParams("layercam", 1, layer="fc6")), "layer"),
    (lambda att, image: C.cam(att, image, C.CamParams("layercam", 1000)), "target"),
    (lambda att, image: C.strip(att, image, 1, ["conv1_1"], "scorecam"), "strip"),
    (lambda att, image: C.cam(att, image, C.CamParams("eigencam", 1, layer="conv1_1")), "svd"),
    (lambda att, image: C.family(att, image, 1, "conv1_1", ["layercam", "eigencam"]), "svd"),
])
def test_bad_input_is_one_clear_translated_error(pair, x, make, code):
    lm, _ = pair
    att = A.attributor(lm)
    with pytest.raises(C.CamError) as err:
        make(att, x)
    assert err.value.code == code and isinstance(err.value, ValueError)
    english = str(err.value)
    with i18n.use("zh"):
        assert str(err.value) != english
    untouched(att, lm)


def test_half_precision_on_the_cpu(x):
    """What a GPU runs in float16, checked on the CPU: float32 maps that agree with the float32 model."""
    maps = []
    for dtype in (torch.float32, torch.float16):
        model = build_model("vgg11", seed=4).to(dtype)
        lm = LoadedModel(model, model.config, "random", imagenet_classes(), "imagenet", torch.device("cpu"),
                         dtype=dtype, trained=False)
        maps.append(A.attributor(lm).attribute(x.to(dtype), C.CamParams("gradcam_plus_plus", 3, eigen_smooth=True)))
    assert maps[1].dtype == np.float32 and np.isfinite(maps[1]).all()
    assert np.corrcoef(maps[0].ravel(), maps[1].ravel())[0, 1] > 0.99


@pytest.mark.slow
def test_the_sanity_check_runs_a_cam_method(pair, x, target, direct):
    """The cascade with LayerCAM at conv3_2: the original is grad-cam's own map, the stages run from fc8 down to
    block 1, each randomised stage changes the map, every ρ is scipy's Spearman of the maps, and the shared model
    is untouched. (Measured here: ρ stays at 0.60-0.75 through every stage, block 1 included: at a low layer
    LayerCAM mostly shows the photo's edges, which is what the check exists to reveal.)"""
    from scipy.stats import spearmanr

    lm, _ = pair
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    steps = A.cascading_randomisation(lm, x, C.CamParams("layercam", target, layer="conv3_2"))
    assert [s.stage for s in steps] == ["original", *[stage for stage, _ in A.cascade_stages(lm.model)]]
    original = steps[0].attribution
    np.testing.assert_allclose(original, direct("layercam", target, "conv3_2"), rtol=1e-4, atol=1e-5)
    for step in steps[1:]:
        assert step.attribution.shape == (SIZE, SIZE) and np.abs(step.attribution - original).max() > 0.05, step.stage
        expected = spearmanr(np.abs(original).ravel(), np.abs(step.attribution).ravel()).statistic
        assert step.rank_correlation == pytest.approx(expected, abs=1e-9), step.stage
    assert all(torch.equal(v, before[k]) for k, v in lm.model.state_dict().items())
    untouched(A.attributor(lm), lm)


def test_scorecam_does_not_keep_each_batchs_activations(pair, x, target, direct, monkeypatch):
    """grad-cam's hook records the target layer's activations on every forward; Score-CAM reads only the first
    pass's, so the masked batches' are dropped as they come (else 16×C×h×w floats a batch stay until the end)."""
    lm, _ = pair
    engines, held = [], []
    make = C._engine
    monkeypatch.setattr(C, "_engine", lambda *a: engines.append(make(*a)) or engines[-1])
    ours = C.cam(A.attributor(lm), x, C.CamParams("scorecam", target, layer=LAYER, batch=16),
                 progress=lambda _f: held.append(len(engines[0].activations_and_grads.activations)))
    assert len(held) == 1 + math.ceil(64 / 16) and max(held) <= 2, held  # without the drop: 1, 2, 3, 4, 5
    np.testing.assert_allclose(ours, direct("scorecam", target), rtol=1e-4, atol=1e-5)
