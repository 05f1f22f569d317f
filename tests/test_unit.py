"""One unit's computation against torchvision's own VGG with the same weights: its conv outputs taken with
forward hooks, each input channel's contribution as a one-channel convolution, at the borders too."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import batch_norm_not_identity, photo, torchvision_twin
from vggviz import i18n

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torchvision import transforms  # noqa: E402

from vggviz.architecture.layers import layer_table  # noqa: E402
from vggviz.architecture.model import build_model  # noqa: E402
from vggviz.explain import unit as units  # noqa: E402
from vggviz.explain.picking import PickError  # noqa: E402
from vggviz.photo import extraction, inference  # noqa: E402


SIZE = (64, 64)


def setup(config: str, name: str, seed: int):
    """Our model; torchvision's with the same weights, run over a 64×64 photo with every module's input and
    output recorded (cloned: its ReLUs are in place); and the Result a forward pass gives, its cached maps
    (float16, before ReLU) taken from torchvision's run."""
    model = build_model(config, seed=seed)
    batch_norm_not_identity(model, seed)
    reference = torchvision_twin(name, model)
    lm = inference.LoadedModel(model, model.config, "test", inference.imagenet_classes(), "imagenet",
                               torch.device("cpu"))
    lm = inference.to_device(lm, torch.device("cpu"), False)
    x = transforms.Compose([transforms.Resize(SIZE), transforms.ToTensor(),
                            transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])(photo(seed))
    seen = {}
    hooks = [m.register_forward_hook(lambda m, i, o, k=k: seen.__setitem__(k, (i[0].clone(), o.clone())))
             for k, m in enumerate(reference.features)]
    with torch.no_grad():
        reference.eval()(x[None])
    for h in hooks:
        h.remove()
    maps = {conv: seen[int(path.split(".")[1])][1][0].to(torch.float16).numpy()
            for conv, path in extraction.map_nodes(model).items()}
    result = inference.Result(np.zeros(1000, np.float32), maps, x.numpy(), "imagenet", 0.0, "cpu")
    return lm, result, seen


@pytest.fixture(scope="module")
def vgg11():
    return setup("A", "vgg11", 1)


@pytest.fixture(scope="module")
def vgg11_bn():
    return setup("A-BN", "vgg11_bn", 2)


def index(lm, layer: str) -> int:
    return int(next(s for s in lm.model.specs if s.name == layer).module.split(".")[1])


CASES = {  # layer: (channel, position), ...: corners and edges (the window over the zero padding), the inside
    "conv1_1": [(0, (0, 0)), (63, (63, 30))],
    "conv2_1": [(5, (31, 0)), (127, (10, 17))],
    "conv3_2": [(200, (0, 15)), (7, (8, 8))],
    "conv5_2": [(3, (3, 3)), (511, (0, 2))],
}


@pytest.mark.parametrize("fixture", ["vgg11", "vgg11_bn"])
def test_pre_post_and_contributions_equal_torchvisions_conv(fixture, request):
    lm, result, seen = request.getfixturevalue(fixture)
    bn = fixture == "vgg11_bn"
    for layer, channel, at in [(layer, c, at) for layer, cases in CASES.items() for c, at in cases]:
        k = index(lm, layer)
        inputs = units.layer_input(lm, result, layer)
        conv_in, conv_out = seen[k]
        np.testing.assert_allclose(inputs, conv_in[0].numpy(), rtol=1e-5, atol=1e-5)
        u = units.compute(lm, result, layer, channel, at, inputs)
        expected = float(conv_out[0, channel, at[0], at[1]])
        assert u.pre == pytest.approx(expected, rel=1e-4, abs=1e-5), (layer, at)
        assert u.bias + u.contributions.sum() == pytest.approx(expected, rel=1e-4, abs=1e-5)
        after = float(seen[k + 1][1][0, channel, at[0], at[1]]) if bn else expected
        assert u.post == pytest.approx(max(after, 0.0), rel=1e-4, abs=1e-5)
        if bn:
            assert u.batch_norm.value == pytest.approx(after, rel=1e-4, abs=1e-5)
        # The largest contribution, as the convolution of that one input channel with its kernel slice.
        c = int(u.order()[0])
        conv = lm.model.features[k]
        alone = F.conv2d(conv_in[:, c:c + 1], conv.weight[channel:channel + 1, c:c + 1].detach().float(),
                         padding=conv.padding)
        assert u.contributions[c] == pytest.approx(float(alone[0, 0, at[0], at[1]]), rel=1e-4, abs=1e-6)
        assert abs(u.contributions[c]) >= np.abs(u.contributions).max() - 1e-12


def test_conv1_1_shows_the_patch_kernel_and_products(vgg11):
    lm, result, _ = vgg11
    u = units.compute(lm, result, "conv1_1", 7, (0, 5))
    assert u.first and u.patch.shape == u.kernel.shape == (3, 3, 3)
    assert (u.patch[:, 0, :] == 0).all()  # the row above the image is zero padding
    np.testing.assert_array_equal(u.patch[:, 1:, :], result.input[:, 0:2, 4:7])
    np.testing.assert_array_equal(u.kernel, lm.model.features[0].weight[7].detach().numpy())
    assert u.products(2).sum() == pytest.approx(u.contributions[2])
    record = u.record()
    assert set(record) == {"layer", "channel", "at", "pre", "post", "bias", "contributions", "rf_box", "patch",
                           "kernel"}
    assert np.array(record["patch"]).shape == (3, 3, 3) and record["rf_box"] == [-1, 4, 1, 6]
    assert [c["in_channel"] for c in record["contributions"]] == [int(i) for i in u.order()]
    deeper = units.compute(lm, result, "conv3_1", 0, (2, 2)).record()
    assert "patch" not in deeper and len(deeper["contributions"]) == 128


def test_batch_norm_step_is_reported(vgg11_bn):
    lm, result, _ = vgg11_bn
    u = units.compute(lm, result, "conv2_1", 3, (9, 9))
    bn = lm.model.features[5]
    assert u.batch_norm.mean == pytest.approx(float(bn.running_mean[3]))
    assert set(u.record()["batch_norm"]) == {"mean", "var", "eps", "weight", "bias", "value"}


@pytest.mark.parametrize("pool, at", [("pool1", (0, 0)), ("pool3", (7, 3)), ("pool5", (1, 1))])
def test_max_pool_window_from_the_cached_maps(vgg11, pool, at, monkeypatch):
    lm, result, seen = vgg11
    monkeypatch.setattr(units, "layer_input", lambda *a: pytest.fail("a pool over a ReLU reads the cached maps"))
    u = units.compute(lm, result, pool, 9, at)
    expected = float(seen[index(lm, pool)][1][0, 9, at[0], at[1]])
    assert u.value == pytest.approx(expected, rel=2e-3, abs=1e-3)  # the cached maps are float16
    assert u.values.shape == (2, 2) and u.window.top == 2 * at[0] and u.window.left == 2 * at[1]
    r, c = u.argmax
    assert u.values[r - u.window.top, c - u.window.left] == u.value  # exact: the max is one of the values


def test_a_pool_after_lrn_computes_its_input():
    model = build_model("A-LRN", seed=3)
    lm = inference.LoadedModel(model, model.config, "test", [], "imagenet", torch.device("cpu"))
    x = torch.randn((1, 3, *SIZE), generator=torch.Generator().manual_seed(0))
    result = inference.Result(np.zeros(1), {}, x[0].numpy(), "imagenet", 0.0, "cpu")
    u = units.compute(lm, result, "pool1", 2, (10, 20))
    f = model.features
    with torch.no_grad():  # conv, ReLU, LRN by hand
        below = torch.nn.functional.local_response_norm(torch.relu(f[0](x)), f[2].size, f[2].alpha, f[2].beta, f[2].k)
    assert u.value == pytest.approx(float(below[0, 2, 20:22, 40:42].max()), rel=1e-5)


def test_pool_fed_by_a_block_end():
    rows = layer_table("A", 224)
    assert units.pool_fed(rows, "conv1_1", (5, 7)) == ("pool1", (2, 3))
    assert units.pool_fed(rows, "conv3_1", (5, 7)) is None
    assert units.pool_fed(rows, "conv3_2", (55, 55)) == ("pool3", (27, 27))


@pytest.mark.parametrize("layer, channel, at, code, words", [
    ("conv9_9", 0, (0, 0), "not_spatial", "conv5_2"),
    ("fc6", 0, (0, 0), "not_spatial", "pool5"),
    ("conv2_1", 128, (0, 0), "channel", "0…127"),
    ("conv2_1", -1, (0, 0), "channel", "0…127"),
    ("conv2_1", 0, (32, 0), "unit", "0…31"),
    ("pool2", 0, (0, 16), "unit", "0…15"),
])
def test_bad_requests(vgg11, layer, channel, at, code, words):
    lm, result, _ = vgg11
    with pytest.raises(PickError) as info:
        units.compute(lm, result, layer, channel, at)
    english = str(info.value)
    with i18n.use("zh"):
        chinese = str(info.value)
    # Chinese writes a range with 全角波浪号 (0～31), English with an ellipsis (0…31)
    assert info.value.code == code and words in english and words.replace("…", "～") in chinese and chinese != english


def test_a_pool_has_no_contributions(vgg11):
    lm, result, _ = vgg11
    with pytest.raises(PickError) as info:
        units.conv_unit(lm, result, "pool2", 0, (0, 0))
    assert info.value.code == "pool_contributions" and "2×2" in str(info.value)
