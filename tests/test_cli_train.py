"""``python -m vggviz train`` (issue 23): the JSON keys are a contract; bad data, a recipe that cannot run and an
unwritable output are one translated line on stderr, exit status 2, and nothing written."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os

import pytest

import shapes
from vggviz import cli, i18n
from vggviz.train import checkpoint
from vggviz.train.run import tensorboard_available

TINY = ["--config", "vgg11", "--init", "xavier", "--size", "32", "--epochs", "2", "--batch", "64", "--no-augment"]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), i18n.use(i18n.language()):
        status = cli.main(args)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return shapes.make_folder(tmp_path_factory.mktemp("cli") / "shapes", per_class=4)


def test_json_has_the_documented_keys_and_the_checkpoint_is_written(tiny, tmp_path, one_torch_thread, small_head):
    out = tmp_path / "ckpt" / "shapes.pth"
    board = tmp_path / "logs"
    status, stdout, stderr = run_cli(["train", str(tiny), *TINY, "--out", str(out), "--format", "json",
                                      "--tensorboard", str(board)])
    assert status == 0, stderr
    if tensorboard_available():  # the course's scalars as event files
        assert any(p.name.startswith("events.out.tfevents") for p in board.iterdir())
    else:  # skipped cleanly, and said so
        assert "TensorBoard is not installed" in stderr and not board.exists()
    data = json.loads(stdout)
    assert set(data) == {"classes", "train_photos", "val_photos", "epochs", "best_epoch", "best_val_acc", "out"}
    assert data["classes"] == ["circle", "square", "triangle"] and (data["train_photos"], data["val_photos"]) == (9, 3)
    assert [set(e) for e in data["epochs"]] == [{"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                                                 "seconds"}] * 2
    assert data["out"] == str(out) and 1 <= data["best_epoch"] <= 2
    assert sorted(p.name for p in out.parent.iterdir()) == ["shapes.json", "shapes.pth", "shapes.train.json"]
    assert "only 3 training photos" in stderr  # the small classes are warned about, on stderr
    # The same name again: refused, and the files stay as they were.
    before = out.read_bytes()
    status, stdout, stderr = run_cli(["train", str(tiny), *TINY, "--out", str(out)])
    assert status == 2 and stdout == "" and "already exists" in stderr
    assert out.read_bytes() == before


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("vggviz: ")]
    assert len(lines) >= 1 and "Traceback" not in stderr, stderr
    return lines[-1]


def test_bad_data_is_one_line_and_exit_2(tmp_path):
    one = tmp_path / "one" / "daisy"
    one.mkdir(parents=True)
    (one / "a.png").write_bytes(shapes.png(shapes.shape("circle", __import__("numpy").random.default_rng(0))))
    status, _out, err = run_cli(["train", str(tmp_path / "one"), *TINY])
    assert status == 2 and "only one class folder" in one_line(err)
    empty = shapes.make_folder(tmp_path / "empty", per_class=2)
    (empty / "tulips").mkdir()
    status, _out, err = run_cli(["train", str(empty), *TINY])
    assert status == 2 and "tulips/" in one_line(err)
    status, _out, err = run_cli(["train", str(tmp_path / "nowhere"), *TINY])
    assert status == 2 and "no such file or folder" in one_line(err)


def test_only_unreadable_photos_is_one_line_and_nothing_is_written(tmp_path, one_torch_thread, small_head):
    for kind in ("a", "b"):
        (tmp_path / "bad" / kind).mkdir(parents=True)
        (tmp_path / "bad" / kind / "0.jpg").write_bytes(b"garbage")
        (tmp_path / "bad" / kind / "1.jpg").write_bytes(b"garbage")
    status, out, err = run_cli(["train", str(tmp_path / "bad"), *TINY, "--train", "head", "--out",
                                str(tmp_path / "o" / "m.pth")])
    assert status == 2 and "no photo that could be read" in one_line(err)
    assert not (tmp_path / "o" / "m.pth").exists()


def test_a_recipe_that_cannot_run_is_refused_before_anything_loads(tiny):
    status, _out, err = run_cli(["train", str(tiny), *TINY[:-5], "--size", "16"])
    assert status == 2 and "too small" in one_line(err) and "32" in one_line(err)
    status, _out, err = run_cli(["train", str(tiny), "--config", "C", "--init", "imagenet"])
    assert status == 2 and "no ImageNet weights" in one_line(err)
    status, _out, err = run_cli(["train", str(tiny), "--config", "vgg11", "--val-share", "0.95"])
    assert status == 2 and "val_share" in one_line(err)


def test_missing_imagenet_weights_say_how_to_get_them(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    status, _out, err = run_cli(["train", str(tiny), "--config", "vgg11", "--size", "32", "--epochs", "1"])
    assert status == 2 and "python -m vggviz download vgg11" in one_line(err)


def test_an_unwritable_output_is_refused_before_training(tiny, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint.tempfile, "TemporaryFile", full)
    status, _out, err = run_cli(["train", str(tiny), *TINY, "--out", str(tmp_path / "m.pth")])
    assert status == 2 and "No space left on device" in one_line(err)
    assert list(tmp_path.iterdir()) == []


def test_messages_follow_the_language(tiny):
    status, _out, err = run_cli(["train", str(tiny), *TINY[:-5], "--size", "16", "--lang", "zh"])
    assert status == 2 and "太小" in one_line(err)


@pytest.mark.parametrize("lang, said", [
    ("en", ("photos: 2 classes, 2 training photos, 1 val photo", "The class a has only 1 training photo;")),
    ("zh", ("photos：2 个类别，2 张训练集照片，1 张验证集照片", "类别 a 的训练集只有 1 张照片"))])
def test_the_text_counts_take_the_plural_their_numbers_take(lang, said, tmp_path, monkeypatch, capsys):
    """One photo is "1 training photo", not "1 training photos" (stopped before training: the counts are the point)."""
    from vggviz.train import run as train_run

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(train_run, "train", stop)
    folder = tmp_path / "photos"
    for split, name in (("train", "a"), ("train", "b"), ("val", "a")):
        (folder / split / name).mkdir(parents=True, exist_ok=True)
        (folder / split / name / "1.png").write_bytes(b"")  # never decoded: training stops before
    with pytest.raises(Stop), i18n.use(i18n.language()):
        cli.main(["train", str(folder), "--lang", lang])
    captured = capsys.readouterr()
    assert said[0] in captured.out, captured.out
    assert said[1] in captured.err and "1 training photos" not in captured.err, captured.err
