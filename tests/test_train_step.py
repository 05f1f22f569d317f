"""One optimisation step of the training engine against the same step written here in plain torch (issue 23):
same batch, same copy of the model, the same optimiser. The frozen layers are unchanged bit for bit (they get
no gradient and batch norm keeps its statistics in eval mode: exact by construction)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vggviz.train import network
from vggviz.train.recipe import Recipe

# The engine splits the forward at the frozen boundary and runs the frozen part without a graph: the same
# operations on the same numbers, but torch may pick other kernels for the two halves, so sums can round
# differently in the last bits. Parameters move by lr × gradient; 1e-5 absolute is far below any real step.
TOL = dict(rtol=1e-4, atol=1e-5)


def _plain_step(model: nn.Module, start: int, recipe: Recipe, x: torch.Tensor, y: torch.Tensor) -> None:
    for i, layer in enumerate(model.features):
        for p in layer.parameters():
            p.requires_grad_(i >= start)
    model.train()
    for layer in model.features[:start]:
        layer.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    opt.zero_grad()
    torch.manual_seed(7)  # the same dropout masks as the engine's step
    F.cross_entropy(model(x), y).backward()
    opt.step()


# Where the trained part starts in ``features``, read off torchvision's layouts (not from the code under test):
# vgg11_bn's fourth pool is features[21], so its last conv block starts at 22; "head" freezes all 29 layers.
START = {("vgg11_bn", "last-block"): 22, ("vgg11_bn", "head"): 29, ("vgg11", "all"): 0}


def test_the_frozen_boundaries_are_torchvisions_layers():
    from torchvision.models import vgg

    features = vgg.make_layers(vgg.cfgs["A"], batch_norm=True)  # vgg11_bn's features, without its 120 M head
    assert len(features) == START["vgg11_bn", "head"]
    assert isinstance(features[21], nn.MaxPool2d) and isinstance(features[22], nn.Conv2d)
    assert sum(isinstance(m, nn.MaxPool2d) for m in features[22:]) == 1  # one block after it: the last


@pytest.mark.parametrize("recipe", [
    Recipe(config="vgg11_bn", init="xavier", train="last-block", optimizer="sgd", lr=0.05, momentum=0.9,
           weight_decay=1e-3, size=32),
    Recipe(config="vgg11_bn", init="xavier", train="head", optimizer="sgd", lr=0.05, momentum=0.9,
           weight_decay=1e-3, size=32),
    Recipe(config="vgg11", init="xavier", train="all", optimizer="adam", lr=1e-3, size=32),
], ids=["last-block-sgd-bn", "head-sgd-bn", "all-adam"])
def test_one_step_equals_a_plain_torch_step_and_frozen_layers_do_not_move(recipe, one_torch_thread, small_head):
    start = START[recipe.config, recipe.train]
    model = network.build(recipe, num_classes=3)
    with torch.no_grad():  # batch-norm statistics that are not the defaults, so that a change would show
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    reference = copy.deepcopy(model)
    before = copy.deepcopy(model.state_dict())
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(4, 3, recipe.size, recipe.size, generator=gen), torch.tensor([0, 1, 2, 1])

    s = network.setup(model, recipe)
    assert s.start == start
    features = network.frozen_features(s.model, s.start, x)
    torch.manual_seed(7)
    network.step(s, features, y)
    _plain_step(reference, start, recipe, x, y)

    ours, theirs = model.state_dict(), reference.state_dict()
    frozen = {k for k in ours if k.startswith("features.") and int(k.split(".")[1]) < start}
    assert (len(frozen) > 0) == (recipe.train != "all")
    if frozen:  # batch norm's statistics are among what must not move
        assert any(k.endswith("running_var") for k in frozen) == ("bn" in recipe.config)
    for key in frozen:
        assert torch.equal(ours[key], before[key]), key  # exact: never touched, batch-norm statistics included
    assert s.trained_names() == set(ours) - frozen
    moved = 0
    for key in s.trained_names():
        torch.testing.assert_close(ours[key], theirs[key], **TOL, msg=key)
        moved += not torch.equal(ours[key], before[key])
    assert moved >= 4  # the step did change the trained part


def test_head_only_freezes_every_feature_and_the_optimiser_holds_only_the_head(small_head):
    recipe = Recipe(config="vgg11", init="xavier", train="head", size=32)
    s = network.setup(network.build(recipe, num_classes=2), recipe)
    assert s.start == len(s.model.features)
    held = {id(p) for group in s.optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in s.model.classifier.parameters()}
    assert s.trained_names() == {k for k in s.model.state_dict() if k.startswith("classifier.")}


def test_the_cosine_schedule_is_the_courses(small_head):
    recipe = Recipe(config="vgg11", init="xavier", epochs=4, lr=0.1, schedule="cosine", final_lr_fraction=0.01)
    s = network.setup(network.build(recipe, num_classes=2), recipe)
    seen = []
    for _ in range(4):
        seen.append(s.lr)
        s.optimizer.step()  # no gradients: changes nothing, keeps torch's order of calls
        s.scheduler.step()
    course = [0.1 * (((1 + math.cos(x * math.pi / 4)) / 2) * (1 - 0.01) + 0.01) for x in range(4)]
    assert seen == pytest.approx(course, rel=1e-12)  # the same closed form: only float rounding


def test_xavier_initialisation_is_the_courses_and_imagenet_keeps_every_layer_but_the_last():
    recipe = Recipe(config="vgg11", init="xavier", seed=5)
    model = network.build(recipe, num_classes=3)
    conv = model.features[0].weight
    bound = math.sqrt(6 / (3 * 9 + 64 * 9))  # Xavier uniform's bound for a 3→64 3×3 conv
    assert conv.abs().max() <= bound and conv.abs().max() > 0.9 * bound
    assert torch.equal(model.features[0].bias, torch.zeros(64))
    # Every conv and linear layer, as the course's _initialize_weights: U(-b, b), b = √(6 / (fan_in + fan_out))
    # (its standard deviation b/√3), zero bias. torchvision's own init (Kaiming normal conv, N(0, 0.01) linear)
    # fails the bound or the spread.
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 8 + 3
    for m in layers:
        w = m.weight.detach()
        field = w[0, 0].numel()
        b = math.sqrt(6 / ((w.shape[0] + w.shape[1]) * field))
        assert w.abs().max() <= b, m
        assert float(w.std()) == pytest.approx(b / math.sqrt(3), rel=0.1), m  # ≥ 1,728 draws: within 10 %
        assert torch.equal(m.bias, torch.zeros_like(m.bias)), m
    again = network.build(recipe, num_classes=3)
    other = network.build(Recipe(config="vgg11", init="xavier", seed=6), num_classes=3)
    assert torch.equal(again.features[0].weight, conv) and not torch.equal(other.features[0].weight, conv)
    torch.manual_seed(0)
    from torchvision import models
    state = models.vgg11().state_dict()
    tuned = network.build(Recipe(config="vgg11", init="imagenet"), num_classes=3, imagenet_state=state)
    for key, value in tuned.state_dict().items():
        if not key.startswith("classifier.6."):
            assert torch.equal(value, state[key]), key
    assert tuned.classifier[6].weight.shape == (3, 4096)

