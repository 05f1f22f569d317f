"""The builder against torchvision's own VGG models."""

import pytest

from vggviz.architecture import configs


@pytest.mark.parametrize("tv", configs.ALIASES)
def test_state_dict_matches_torchvision_and_loads_strictly(torch, tv):
    from torchvision import models

    from vggviz.architecture.model import build_model

    reference = getattr(models, tv)().eval()
    ours = build_model(tv, seed=3)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}
    ours.load_state_dict(reference.state_dict(), strict=True)
    assert sum(p.numel() for p in ours.parameters()) == models.get_model_weights(tv).IMAGENET1K_V1.meta["num_params"]
    if tv in ("vgg11", "vgg11_bn"):  # same weights, same outputs (one forward is enough to prove the wiring)
        x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            torch.testing.assert_close(ours(x), reference(x))


@pytest.mark.parametrize("name", configs.NAMES)
def test_parameter_count_equals_the_table(torch, name):
    from vggviz.architecture.layers import layer_table, totals
    from vggviz.architecture.model import build_model

    model = build_model(name, seed=None)
    assert sum(p.numel() for p in model.parameters()) == totals(layer_table(name)).params


def test_every_relu_is_its_own_non_inplace_module(torch):
    from vggviz.architecture.model import build_model

    model = build_model("D-BN", seed=None)
    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    assert len(relus) == 13 + 2 and all(not m.inplace for m in relus)
    assert len({id(m) for m in relus}) == len(relus)


def test_untrained_weights_are_reproducible_and_leave_the_global_rng_alone(torch):
    from vggviz.architecture.model import build_model

    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build_model("A", seed=7), build_model("A", seed=7)
    assert torch.rand(1) == before
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    c = build_model("A", seed=8)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


def test_module_names_map_paths_to_paper_names(torch):
    from vggviz.architecture.model import build_model

    names = build_model("A-LRN", seed=None).module_names()
    assert names["features.0"] == "conv1_1" and names["features.2"] == "lrn1" and names["classifier.6"] == "fc8"


def test_lecture_v1_head_has_the_old_key_layout(torch):
    from vggviz.architecture.model import build_model

    sd = build_model("D", head="lecture_v1", hidden=2048, num_classes=5, seed=None).state_dict()
    assert sd["classifier.1.weight"].shape == (2048, 25088)
    assert sd["classifier.4.weight"].shape == (2048, 2048)
    assert sd["classifier.6.weight"].shape == (5, 2048)


def test_conv_blocks_group_the_paper_names(torch):
    from vggviz.architecture.model import build_model

    blocks = build_model("C", seed=None).conv_blocks()
    assert blocks[1] == ["conv1_1", "conv1_2"] and blocks[3] == ["conv3_1", "conv3_2", "conv3_3"]
    assert sorted(blocks) == [1, 2, 3, 4, 5] and sum(map(len, blocks.values())) == 13


def test_the_frozen_twin_shares_the_weights_and_never_writes_a_gradient_into_them(torch):
    from vggviz.architecture.model import build_model, frozen_twin

    model = build_model("vgg11").train()
    twin = frozen_twin(model)
    pairs = list(zip(model.state_dict().values(), twin.state_dict().values()))
    assert pairs and all(a.data_ptr() == b.data_ptr() for a, b in pairs)  # same storage, no copy
    assert twin is not model and not twin.training and model.training
    assert all(not p.requires_grad for p in twin.parameters())
    assert all(p.requires_grad for p in model.parameters())  # the shared model is left as it was
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    twin.features(x).sum().backward()
    assert x.grad is not None and all(p.grad is None for p in model.parameters())
