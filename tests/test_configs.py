import pytest

from vggviz.architecture import configs


@pytest.mark.parametrize(
    "alias, name",
    [("vgg11", "A"), ("VGG16", "D"), ("vgg16_bn", "D-BN"), ("d-bn", "D-BN"), ("a_lrn", "A-LRN"),
     ("A-LRN", "A-LRN"), ("c", "C"), ("vgg19-bn", "E-BN"), (" e ", "E")],
)
def test_aliases_resolve_to_canonical_names(alias, name):
    assert configs.resolve(alias).name == name


def test_every_torchvision_name_round_trips():
    for c in configs.ALL:
        if c.torchvision_name:
            assert configs.resolve(c.torchvision_name) is c


@pytest.mark.parametrize("bad", ["vgg99", "F", "C-BN", "A-LRN-BN", ""])
def test_unknown_names_list_the_allowed_ones(bad):
    with pytest.raises(configs.UnknownConfigError) as err:
        configs.resolve(bad)
    assert "A-LRN" in str(err.value) and "vgg16_bn" in str(err.value)


def test_weight_layers_match_table_1():
    assert {p: configs.Config(p).weight_layers for p in configs.TABLE1} == {
        "A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}


@pytest.mark.parametrize("text, size", [("224", (224, 224)), ("320x240", (320, 240)), ("63×500", (63, 500)),
                                         (32, (32, 32)), ((40, 50), (40, 50))])
def test_input_sizes_parse_as_height_by_width(text, size):
    assert configs.parse_input_size(text) == size


@pytest.mark.parametrize("bad", ["31", "320x31", "0", "x", "3x", "axb", "1x2x3", "-5", "12.5"])
def test_bad_input_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="32|malformed"):
        configs.parse_input_size(bad)


def test_errors_keep_their_types_and_speak_both_languages():
    from vggviz import i18n

    with pytest.raises(ValueError) as unknown:
        configs.resolve("vgg99")
    with pytest.raises(ValueError) as small:
        configs.parse_input_size("31")
    assert isinstance(unknown.value, configs.UnknownConfigError) and isinstance(small.value, configs.InputSizeError)
    assert str(small.value) == "input size '31' is too small; height and width must be at least 32"
    with i18n.use("zh"):
        assert str(small.value) == "输入尺寸 '31' 太小；高和宽都必须至少为 32"
        assert "未知的配置 'vgg99'" in str(unknown.value) and "vgg16_bn" in str(unknown.value)
        assert configs.resolve("D-BN").label == "D-BN（vgg16_bn，16 个权重层）"
    assert configs.resolve("D-BN").label == "D-BN (vgg16_bn, 16 weight layers)"
