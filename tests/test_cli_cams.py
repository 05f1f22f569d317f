"""``python -m vggviz attribute`` with the CAM family and ``python -m vggviz metrics``, run in-process (the
interpreter and torch start once): outputs, the JSON contract, the text report in both languages, bad input."""

import json

import numpy as np
import pytest
from PIL import Image

import torch  # noqa: E402
from vggviz import cli  # noqa: E402
from vggviz.explain import faithfulness  # noqa: E402

MODEL = ["--config", "A", "--weights", "random"]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 90, 3), dtype=np.uint8)).save(path)
    return path


def run(capsys, *args):
    try:
        status = cli.main([str(a) for a in args])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


def test_attribute_with_a_cam_method_writes_npy_and_png(capsys, photo, tmp_path):
    for name in ("cam.npy", "cam.png"):
        status, out, err = run(capsys, "attribute", photo, "--method", "layercam", "--layer", "conv4_2", *MODEL,
                               "--out", tmp_path / name)
        assert status == 0, err
        assert "LayerCAM for" in out
    cam = np.load(tmp_path / "cam.npy")
    assert cam.shape == (224, 224) and cam.dtype == np.float32 and 0 <= cam.min() and cam.max() <= 1
    assert Image.open(tmp_path / "cam.png").size == (224, 224)
    # The same map from grad-cam called directly on torchvision's vgg11 with the same (untrained) weights, for
    # the class it predicts, at the ReLU after conv4_2 (features[14]).
    import pytorch_grad_cam as grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from torchvision import models

    from vggviz.photo import inference

    reference = models.vgg11().eval()
    reference.load_state_dict(inference.load_model("A", "random").model.state_dict())
    x = inference.transform("imagenet")(Image.open(photo).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        target = int(reference(x).argmax())
    with grad_cam.LayerCAM(model=reference, target_layers=[reference.features[14]]) as engine:
        expected = engine(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]
    np.testing.assert_allclose(cam, expected, rtol=1e-4, atol=1e-5)
    assert np.ptp(cam) > 0.1


@pytest.mark.parametrize("extra, words", [
    (["--method", "scorecam", "--layer", "fc7"], "conv5_2"),
    (["--method", "eigencam", "--eigen-smooth"], "eigen_smooth"),
    (["--method", "saliency", "--aug-smooth"], "CAM family"),
    (["--method", "eigencam", "--layer", "conv1_1"], "deeper layer"),
    (["--method", "gradcam_plus_plus", "--target", "1000"], "class index"),
])
def test_attribute_bad_cam_settings_exit_2_with_one_line(capsys, photo, tmp_path, extra, words):
    status, out, err = run(capsys, "attribute", photo, *MODEL, *extra, "--out", tmp_path / "o.npy")
    assert status == 2 and out == "" and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "o.npy").exists()


def test_metrics_json_keeps_the_contract(capsys, photo, monkeypatch):
    monkeypatch.setattr(faithfulness, "ROAD_PERCENTILES", (50,))  # one percentile: the contract, not the numbers
    status, out, err = run(capsys, "metrics", photo, "--method", "layercam", *MODEL, "--steps", 2,
                           "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    numbers = {"deletion_auc", "insertion_auc", "average_drop", "increase_in_confidence", "road_morf", "road_lerf"}
    assert set(data) == {"method", "target", "steps", "curves", "baselines"} | numbers
    assert data["method"] == "layercam" and data["steps"] == 2 and isinstance(data["target"], int)
    assert [len(data["curves"][c]) for c in ("deletion", "insertion")] == [3, 3]
    # exact: both are the photo's probability, from its one forward pass
    assert data["curves"]["deletion"][0] == data["curves"]["insertion"][-1]
    assert set(data["baselines"]) == {"random", "sobel"}
    for baseline in data["baselines"].values():
        assert set(baseline) == numbers | {"curves"} and all(isinstance(baseline[k], float) for k in numbers)


@pytest.mark.parametrize("lang, words", [("en", "Deletion AUC (lower is better)"), ("zh", "删除")])
def test_metrics_text_names_every_number_and_the_baselines(capsys, photo, monkeypatch, lang, words):
    scores = faithfulness.Scores((0.8, 0.4, 0.2), (0.1, 0.5, 0.8), 0.25, 0.0, -0.3, -0.05)
    monkeypatch.setattr(faithfulness, "evaluate", lambda *a, **k: {"map": scores, "random": scores, "sobel": scores})
    status, out, err = run(capsys, "metrics", photo, "--method", "gradcam", *MODEL, "--steps", 2, "--lang", lang)
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 + len(faithfulness.NUMBERS) and words in out
    assert "0.45" in lines[1] and lines[1].count("0.45") == 3  # deletion AUC of the map and both baselines


@pytest.mark.parametrize("extra, words", [
    (["--method", "layercam", "--steps", "1"], "at least 2 steps"),
    (["--method", "magic"], "invalid choice"),
    (["--method", "layercam", "--layer", "conv9_9"], "conv5_2"),
    (["--method", "gradcam", "--target", "cat"], "class index"),
])
def test_metrics_bad_input_exit_2_with_one_line(capsys, photo, extra, words):
    status, out, err = run(capsys, "metrics", photo, *MODEL, *extra)
    assert status == 2 and out == "" and err.count("\n") == 1 and words in err, err
