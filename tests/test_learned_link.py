"""The engine behind the channel page: a link's unit against torchvision's VGGs (layer names and channel
counts), its fallbacks and messages in both languages; a class model read from the gallery folder without
computing; the objective's curve."""

from __future__ import annotations

import pytest
import torchvision

from vggviz import i18n
from vggviz.learned import charts, class_model, link


def torchvision_convs(name: str) -> list[int]:
    """Out-channels of each conv of torchvision's model, in order (an independent reference)."""
    model = getattr(torchvision.models, name)(weights=None)
    return [m.out_channels for m in model.features if hasattr(m, "out_channels")]


@pytest.mark.parametrize(("config", "alias"), [("A", "vgg11"), ("D", "vgg16"), ("E-BN", "vgg19_bn")])
def test_conv_channels_match_torchvision(config, alias):
    found = link.conv_channels(config)
    assert list(found.values()) == torchvision_convs(alias)
    assert list(found)[0] == "conv1_1" and link.default_layer(config) == list(found)[-1]


def test_a_link_names_its_unit_and_is_written_as_it_is_read():
    unit, problems = link.parse({"config": "vgg16", "layer": "conv4_3", "channel": "12"}, "A")
    assert unit == link.Unit("D", "conv4_3", 12) and not problems
    assert link.query(unit.config, unit.layer, unit.channel) == {"config": "vgg16", "layer": "conv4_3",
                                                                  "channel": "12"}
    assert link.parse(link.query("A-LRN", "conv1_1", 63), "D") == (link.Unit("A-LRN", "conv1_1", 63), [])
    assert link.parse({}, "vgg13") == (link.Unit("B", "conv5_2", 0), [])  # nothing named: the current config


@pytest.mark.parametrize(("params", "unit", "kinds"), [
    ({"config": "vgg99"}, link.Unit("A", "conv5_2", 0), ["config"]),
    ({"layer": "conv5_3"}, link.Unit("A", "conv5_2", 0), ["layer"]),  # vgg11 has no conv5_3
    ({"layer": "conv1_1", "channel": "64"}, link.Unit("A", "conv1_1", 0), ["channel"]),  # 0…63
    ({"channel": "-1"}, link.Unit("A", "conv5_2", 0), ["channel"]),
    ({"channel": "1e3"}, link.Unit("A", "conv5_2", 0), ["channel"]),
    ({"channel": "²"}, link.Unit("A", "conv5_2", 0), ["channel"]),  # a digit to str.isdigit, not to int()
    ({"channel": "9" * 5000}, link.Unit("A", "conv5_2", 0), ["channel"]),  # past int()'s digit limit
    ({"config": "", "layer": "", "channel": ""}, link.Unit("A", "conv5_2", 0), ["config", "layer", "channel"]),
])
def test_what_a_link_names_wrongly_falls_back_with_a_message(params, unit, kinds):
    found, problems = link.parse(params, "A")
    assert found == unit and [p.code for p in problems] == kinds
    with i18n.use("zh"):
        assert all("链接" in str(p) for p in problems)


def test_a_class_model_is_read_from_the_gallery_without_computing(tmp_path, monkeypatch):
    from vggviz.photo import model_identity as identity
    from vggviz.photo.inference import load_model

    monkeypatch.setenv("VGGVIZ_GALLERY", str(tmp_path))
    lm = identity.identify(load_model("A", "random"), identity.UNTRAINED)
    tiny = class_model.SimonyanSettings(steps=2, size=32)
    assert class_model.cached(lm, 3, "simonyan", tiny) is None
    made = class_model.class_model(lm, 3, "simonyan", tiny)
    monkeypatch.setattr(class_model, "_simonyan", lambda *a, **k: pytest.fail("computed again"))
    read = class_model.cached(lm, lm.classes[3], "simonyan", tiny)
    assert read is not None and read.cached and read.index == 3
    assert (read.image == made.image).all()  # a PNG read back: lossless
    assert class_model.cached(lm, 3, "simonyan", tiny, seed=1) is None


def test_the_objective_curve_counts_steps_from_one_in_the_readers_language():
    fig = charts.objective_curve([0.5, 1.0, 2.0])
    assert list(fig.data[0].x) == [1, 2, 3] and list(fig.data[0].y) == [0.5, 1.0, 2.0]
    with i18n.use("zh"):
        assert charts.objective_curve([1.0]).layout.xaxis.title.text == "步"
