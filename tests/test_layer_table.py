"""The analytic layer table against real torch forward passes, torchvision's models and metadata,
the paper's tables and the receptive fields published for VGG-16."""

import pytest

from vggviz.architecture import configs, lecture
from vggviz.architecture.layers import find, layer_specs, layer_table, totals

# REFERENCE.md §3 (Araujo et al., Distill 2019; google-research/receptive_field): VGG-16 r / jump.
VGG16_RF = {
    "conv1_1": (3, 1), "conv1_2": (5, 1), "pool1": (6, 2), "conv2_1": (10, 2), "conv2_2": (14, 2),
    "pool2": (16, 4), "conv3_1": (24, 4), "conv3_2": (32, 4), "conv3_3": (40, 4), "pool3": (44, 8),
    "conv4_1": (60, 8), "conv4_2": (76, 8), "conv4_3": (92, 8), "pool4": (100, 16),
    "conv5_1": (132, 16), "conv5_2": (164, 16), "conv5_3": (196, 16), "pool5": (212, 32),
}
# Paper Table 2, millions of parameters.
PAPER_TABLE2 = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}


def test_vgg16_receptive_fields_match_the_published_table():
    rows = layer_table("D", 224)
    assert {r.name: (r.rf, r.jump) for r in rows if r.name in VGG16_RF} == VGG16_RF


def test_vgg16_pool5_effective_padding_is_90():
    pool5 = find(layer_table("vgg16"), "pool5")
    assert pool5.start - (pool5.rf - 1) / 2 == -90  # Distill: effective padding 90 at pool5


def test_names_follow_the_paper():
    names = [s.name for s in layer_specs("C")]
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert "conv3_3" in names and "conv5_3" in names and names[-7:] == [
        "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    assert find(layer_table("C"), "conv3_3").kernel == 1
    lrn = [s.name for s in layer_specs("A-LRN")]
    assert lrn[:3] == ["conv1_1", "relu1_1", "lrn1"]
    assert [s.name for s in layer_specs("D-BN")][:3] == ["conv1_1", "bn1_1", "relu1_1"]


@pytest.mark.parametrize("name", configs.NAMES)
def test_parameters_round_to_paper_table_2(name):
    """Every configuration rounds to its paper column; a BN variant adds exactly what torchvision's BN models add
    to their plain twins (a scale and a shift per conv channel: thousands, invisible in millions)."""
    from torchvision import models

    c = configs.resolve(name)
    params = totals(layer_table(c)).params
    assert round(params / 1e6) == PAPER_TABLE2[c.paper]
    if c.batch_norm:
        plain = configs.Config(c.paper)
        meta = {n: models.get_model_weights(n).IMAGENET1K_V1.meta["num_params"]
                for n in (c.torchvision_name, plain.torchvision_name)}
        added = params - totals(layer_table(plain)).params
        assert added == meta[c.torchvision_name] - meta[plain.torchvision_name] > 0


@pytest.mark.parametrize("tv", configs.ALIASES)
def test_parameters_and_macs_equal_torchvision_metadata(tv):
    from torchvision import models

    meta = models.get_model_weights(tv).IMAGENET1K_V1.meta
    t = totals(layer_table(tv, 224))
    assert t.params == meta["num_params"]
    assert round(t.macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=0.0015)


def test_lecture_examples_come_out_as_on_the_slides():
    paths = {k: [1] + [s.after for s in lecture.topdown(v)] for k, v in lecture.LECTURE_EXAMPLES.items()}
    assert list(paths.values()) == [[1, 2, 5], [1, 3, 5, 7]]


@pytest.mark.parametrize("name", ["A", "C", "D", "E"])
def test_topdown_recursion_agrees_with_the_bottom_up_table(name):
    rows = layer_table(name, 224)
    for row in rows:
        if row.type in ("conv", "pool"):
            assert lecture.topdown_for(rows, row.name)[-1].after == row.rf


def test_three_3x3_convs_versus_one_7x7():
    cmp = lecture.stack_vs_single(3, 100, (10, 10))
    assert cmp.rf == 7 and cmp.stacked_params == 27 * 100**2 and cmp.single_params == 49 * 100**2
    assert cmp.stacked_macs == 27 * 100**2 * 100 and cmp.stacked_nonlinearities == 3
    two = lecture.stack_vs_single(2, 8)
    assert two.rf == 5 and two.stacked_params == 18 * 64 and two.single_params == 25 * 64


def test_output_size_formula_shows_the_numbers():
    rows = layer_table("D", 225)
    assert lecture.output_size_formula(find(rows, "pool1")) == "out = ⌊(225 − 2 + 2·0) / 2⌋ + 1 = 112"
    assert lecture.output_size_formula(find(rows, "conv1_1")) == "out = (225 − 3 + 2·1) / 1 + 1 = 225"
    assert lecture.rf_formula(find(rows, "conv2_1")) == "r = 6 + (3 − 1)·2 = 10"


def test_adaptive_avgpool_rows():
    assert find(layer_table("D", 448), "avgpool").kernel == 2  # 14x14 -> 7x7: a uniform 2x2/2 pool
    odd = find(layer_table("D", 300), "avgpool")  # 9x9 -> 7x7: uneven windows, no single r
    assert odd.kernel is None and odd.rf is None and odd.out_shape == (512, 7, 7)


SIZES = [32, 63, 224, 225, (320, 240), 500]


@pytest.mark.parametrize("size", SIZES)
def test_shapes_equal_a_real_forward_pass(torch, size):
    from vggviz.architecture.model import build_model

    name = "vgg16" if size == 224 else "A"
    rows = layer_table(name, size)
    model = build_model(name, seed=None)
    seen = {}
    modules = dict(model.named_modules())
    handles = [modules[r.module].register_forward_hook(
        lambda m, i, o, r=r: seen.__setitem__(r.name, (tuple(i[0].shape[1:]), tuple(o.shape[1:]))))
        for r in rows]
    h, w = configs.parse_input_size(size)
    with torch.inference_mode():
        model(torch.zeros(1, 3, h, w))
    for handle in handles:
        handle.remove()
    for r in rows:
        in_shape, out_shape = seen[r.name]
        assert out_shape == r.out_shape, r.name
        if r.name != "fc6":  # fc6's table input is the flattened avgpool output
            assert in_shape == r.in_shape, r.name
    assert find(rows, "fc6").in_shape == (512 * 7 * 7,)


@pytest.mark.parametrize("name", ["A-LRN", "B", "C", "D-BN", "E"])
def test_every_config_runs_at_the_minimum_size(torch, name):
    from vggviz.architecture.model import build_model

    rows = layer_table(name, 32)
    with torch.inference_mode():
        out = build_model(name, seed=None)(torch.zeros(1, 3, 32, 32))
    assert tuple(out.shape[1:]) == rows[-1].out_shape == (1000,)
    assert find(rows, "pool5").out_shape == (512, 1, 1)


def _gradient_probe(torch, name, size):
    """The built model made linear and positive: identity activations, average pooling with the same
    kernel and stride, positive weights. Its input gradient is non-zero exactly on a unit's receptive field."""
    from torch import nn
    from vggviz.architecture.model import build_model

    model = build_model(name, seed=1).double()
    feats = model.features
    for i, m in enumerate(feats):
        if isinstance(m, (nn.ReLU, nn.LocalResponseNorm)):
            feats[i] = nn.Identity()
        elif isinstance(m, nn.MaxPool2d):
            feats[i] = nn.AvgPool2d(m.kernel_size, m.stride)
        elif isinstance(m, nn.Conv2d):
            with torch.no_grad():
                m.weight.abs_().add_(0.01)
                m.bias.zero_()
    return feats


@pytest.mark.parametrize("name", ["A", "C"])
def test_receptive_field_box_equals_the_gradient_footprint(torch, name):
    size = (64, 48)
    rows = layer_table(name, size)
    feats = _gradient_probe(torch, name, size)
    for layer in ["conv1_1", "pool1", "conv2_1", "conv3_2", "pool3", "conv4_2", "pool4", "conv5_2", "pool5"]:
        if layer not in {r.name for r in rows}:
            continue
        row = find(rows, layer)
        upto = int(row.module.split(".")[1]) + 1
        _, oh, ow = row.out_shape
        for unit in {(0, 0), (oh // 2, ow // 2), (oh - 1, ow - 1), (0, ow - 1)}:
            x = torch.ones(1, 3, *size, dtype=torch.float64, requires_grad=True)
            feats[:upto](x)[0, 0, unit[0], unit[1]].backward()
            nz = (x.grad[0].abs().sum(0) > 0).nonzero()
            _, box = lecture.unit_box(row, *unit, size)
            found = (int(nz[:, 0].min()), int(nz[:, 1].min()), int(nz[:, 0].max()), int(nz[:, 1].max()))
            assert found == (box.top, box.left, box.bottom, box.right), (layer, unit)
            assert len(nz) == box.size[0] * box.size[1]  # the whole box, not just its corners


def test_the_csv_leaves_what_a_row_lacks_empty_and_keeps_the_numbers():
    """The page's download: fc rows and the totals row have no kernel, stride, padding, jump or start."""
    import csv
    import io

    from vggviz.architecture import tables

    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(tables.to_csv(layer_table("D"))))}
    gaps = ("kernel", "stride", "padding", "jump", "start")
    for name in ("fc6", "fc8", "total"):
        assert [rows[name][k] for k in gaps] == [""] * len(gaps), rows[name]
    assert not any(v in ("None", "nan") for row in rows.values() for v in row.values())
    assert [rows["conv5_3"][k] for k in ("kernel", "stride", "padding", "rf", "jump")] == ["3", "1", "1", "196", "16"]
    assert rows["fc8"]["params"] == str(4096 * 1000 + 1000) and rows["total"]["params"] == "138357544"
    assert rows["total"]["rf"] == "212"
