"""Attributions against captum called directly on an independent torchvision model, on a planted
model, under threads, with hooks checked, and the cascading-randomisation sanity check."""

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")
from torch import nn  # noqa: E402
from torchvision import models  # noqa: E402

from vggviz.explain import attribution_view as view  # noqa: E402
from vggviz.explain import attributions as A  # noqa: E402
from vggviz.photo.inference import LoadedModel, imagenet_classes  # noqa: E402
from vggviz.architecture.model import build_model  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406])[None, :, None, None]
STD = torch.tensor([0.229, 0.224, 0.225])[None, :, None, None]
SIZE = 64


@pytest.fixture(scope="module")
def pair():
    """Our vgg11 and torchvision's vgg11 (its ReLUs made non-inplace for captum) with the same weights."""
    ours = build_model("vgg11", seed=4)
    with torch.no_grad():
        for m in ours.classifier:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.05, generator=torch.Generator().manual_seed(1))
    ref = models.vgg11().eval()
    ref.load_state_dict(ours.state_dict())
    for m in ref.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    lm = LoadedModel(ours, ours.config, "random", imagenet_classes(), "imagenet", torch.device("cpu"), trained=False)
    return lm, ref


@pytest.fixture(scope="module")
def x():
    return torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))


def reference(ref, method, x, t):
    """The same computation written directly against captum and torchvision's module indices."""
    x = x.clone().requires_grad_(True)
    black = (0 - MEAN) / STD
    conv5_2_relu = ref.features[19]  # vgg11: ... conv5_2 = features[18], its ReLU = features[19]
    if method == "saliency":
        return captum_attr.Saliency(ref).attribute(x, target=t)
    if method == "integrated_gradients":
        return captum_attr.IntegratedGradients(ref).attribute(x, baselines=black.expand_as(x), target=t, n_steps=8,
                                                             internal_batch_size=4)
    if method == "smoothgrad":
        torch.manual_seed(7)
        return captum_attr.NoiseTunnel(captum_attr.Saliency(ref)).attribute(
            x, nt_type="smoothgrad", nt_samples=4, nt_samples_batch_size=4, stdevs=0.15, target=t)
    if method == "input_x_gradient":
        return captum_attr.InputXGradient(ref).attribute(x, target=t)
    if method == "guided_backprop":
        return captum_attr.GuidedBackprop(ref).attribute(x, target=t)
    if method == "deconvolution":
        return captum_attr.Deconvolution(ref).attribute(x, target=t)
    if method == "deeplift":
        return captum_attr.DeepLift(ref).attribute(x, baselines=black.expand_as(x), target=t)
    if method == "occlusion":
        return captum_attr.Occlusion(ref).attribute(x, sliding_window_shapes=(3, 16, 16), strides=(3, 8, 8),
                                                    baselines=0.0, target=t, perturbations_per_eval=4)
    if method == "gradcam":
        cam = captum_attr.LayerGradCam(ref, conv5_2_relu).attribute(x, target=t, relu_attributions=True)
        return captum_attr.LayerAttribution.interpolate(cam, (SIZE, SIZE), "bilinear")[:, 0]
    return captum_attr.GuidedGradCam(ref, conv5_2_relu).attribute(x, target=t)


PARAMS = dict(layer="conv5_2", steps=8, samples=4, window=16, stride=8, batch=4)


@pytest.mark.parametrize("method", list(A.METHODS))
def test_each_method_equals_captum_called_directly(pair, x, method):
    lm, ref = pair
    target = 7
    expected = reference(ref, method, x, target).detach()[0].numpy()
    if method == "smoothgrad":
        torch.manual_seed(7)
    ours = A.attributor(lm).attribute(x, A.Params(method, target, **PARAMS))
    assert ours.shape == expected.shape == ((SIZE, SIZE) if method == "gradcam" else (3, SIZE, SIZE))
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6 * max(1.0, float(np.abs(expected).max())))
    assert A.hook_count(lm.model) == 0 and A.hook_count(A.attributor(lm).model) == 0


def test_gradcam_strip_equals_layer_gradcam_per_layer(pair, x):
    lm, ref = pair
    names = A.block_ends(lm.model)
    assert names == ["conv1_1", "conv2_1", "conv3_2", "conv4_2", "conv5_2"]
    strip = A.attributor(lm).strip(x, 3, names)
    relus = {"conv1_1": 1, "conv2_1": 4, "conv3_2": 9, "conv4_2": 14, "conv5_2": 19}  # torchvision indices
    for name in names:
        cam = captum_attr.LayerGradCam(ref, ref.features[relus[name]]).attribute(
            x.clone().requires_grad_(True), target=3, relu_attributions=True)
        expected = captum_attr.LayerAttribution.interpolate(cam, (SIZE, SIZE), "bilinear")[0, 0].detach().numpy()
        np.testing.assert_allclose(strip[name], expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("method", ["activation", "conductance"])
def test_other_layer_strips(pair, x, method):
    lm, ref = pair
    strip = A.attributor(lm).strip(x, 3, ["conv2_1", "conv5_2"], method, steps=4)
    if method == "activation":
        act = captum_attr.LayerActivation(ref, ref.features[4]).attribute(x).sum(1, keepdim=True)
        expected = captum_attr.LayerAttribution.interpolate(act, (SIZE, SIZE), "bilinear")[0, 0].numpy()
        np.testing.assert_allclose(strip["conv2_1"], expected, rtol=1e-4, atol=1e-6)
    assert all(m.shape == (SIZE, SIZE) for m in strip.values())


class Planted(nn.Module):
    """A VGG whose logits depend only on the top-left 32x32 of the 64x64 input."""

    def __init__(self):
        super().__init__()
        self.vgg = build_model("A", seed=2)
        mask = torch.zeros(1, 1, SIZE, SIZE)
        mask[..., :32, :32] = 1
        self.register_buffer("mask", mask)

    def forward(self, x):
        return self.vgg(x * self.mask)


@pytest.mark.parametrize("method", list(A.METHODS))
def test_planted_region_gets_most_attribution(x, method):
    planted = Planted().eval()
    att = A.Attributor(planted, A.relu_layers(planted.vgg))
    attr = np.abs(att.attribute(x, A.Params(method, 1, layer="conv3_2", steps=8, samples=4, window=8, stride=8,
                                             batch=8)))
    mag = attr.sum(0) if attr.ndim == 3 else attr
    inside = mag[:32, :32].sum() / mag.sum()
    assert inside > (0.6 if method == "gradcam" else 0.95), inside


@pytest.mark.parametrize("method", ["saliency", "guided_backprop", "deconvolution", "deeplift", "gradcam",
                                    "guided_gradcam", "integrated_gradients"])
def test_no_hook_remains_after_an_exception(pair, x, method):
    lm, _ = pair
    att = A.attributor(lm)
    with pytest.raises(Exception):
        att.attribute(x, A.Params(method, 5000, layer="conv5_2", steps=4, batch=4))  # no class 5000
    assert A.hook_count(att.model) == 0 and A.hook_count(lm.model) == 0


def test_threads_on_one_shared_model_match_sequential_results(pair, x):
    lm, _ = pair
    att = A.attributor(lm)
    jobs = [A.Params(m, 2, layer="conv4_2", steps=4, batch=4)
            for m in ("guided_backprop", "deeplift", "gradcam", "integrated_gradients")]
    sequential = [att.attribute(x, p) for p in jobs]
    results = [None] * len(jobs)
    errors = []

    def work(i):
        try:
            results[i] = A.attributor(lm).attribute(x, jobs[i])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, want in zip(results, sequential):
        np.testing.assert_array_equal(got, want)
    assert A.hook_count(att.model) == 0


def test_the_twin_shares_weights_but_not_modules(pair):
    lm, _ = pair
    twin = A.attributor(lm).model
    assert twin.features[0].weight.data_ptr() == lm.model.features[0].weight.data_ptr()
    assert twin.features[1] is not lm.model.features[1]


@pytest.mark.parametrize("method", ["saliency", "gradcam"])
def test_cascading_randomisation_destroys_weight_sensitive_maps(pair, x, method):
    lm, _ = pair
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    steps = A.cascading_randomisation(lm, x, A.Params(method, 3, layer="conv5_2"))
    assert [s.stage for s in steps] == ["original", "fc8", "fc7", "fc6", "block5", "block4", "block3", "block2",
                                       "block1"]
    assert steps[0].rank_correlation == 1.0
    assert all(s.rank_correlation < 0.9 for s in steps[1:]) and steps[-1].rank_correlation < 0.5
    assert all(torch.equal(v, before[k]) for k, v in lm.model.state_dict().items())  # the shared model is untouched


def test_spearman_matches_its_definition():
    a = np.array([3.0, 1.0, 2.0, 5.0])
    assert A.spearman(a, a) == pytest.approx(1.0)
    assert A.spearman(a, -a) == pytest.approx(-1.0)
    assert A.spearman(a, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.4)  # 1 - 6*6/(4*15)


@pytest.mark.parametrize("sign", view.SIGNS)
def test_display_scaling_equals_captums_visualize_image_attr(sign):
    import matplotlib

    matplotlib.use("Agg")
    from captum.attr import visualization

    attr = np.random.default_rng(1).normal(size=(3, 24, 24))
    photo = np.random.default_rng(2).random((24, 24, 3))
    fig, ax = visualization.visualize_image_attr(attr.transpose(1, 2, 0), photo, method="heat_map", sign=sign,
                                                 outlier_perc=5, use_pyplot=False)
    np.testing.assert_allclose(view.normalise(attr, sign, 5), np.asarray(ax.images[0].get_array()), atol=1e-6)


def test_views_render_and_refuse_mixed_signs():
    norm = np.linspace(-1, 1, 64).reshape(8, 8).astype(np.float32)
    photo = np.full((8, 8, 3), 200, np.uint8)
    assert view.render(norm, photo, "alpha_scaling", "positive").shape == (8, 8, 4)
    assert view.render(norm, photo, "heat_map", "all")[0, 0].tolist() == [255, 0, 0]  # −1: captum's red
    with pytest.raises(ValueError, match="one sign"):
        view.render(norm, photo, "masked_image", "all")
