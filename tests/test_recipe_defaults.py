"""A recipe's defaults follow what was chosen, with or without a preset, as docs/training.md's table says
(``sgd`` with momentum 0.9 at 0.01; ``adam`` 1e-3, or 1e-4 for ``--init xavier --train all``) and as the Train
page does: a preset with another optimiser or another part trained must not keep a rate that does not learn."""

from __future__ import annotations

import pytest

from vggviz import cli
from vggviz.train import recipe as recipes
from vggviz.train import run as train_run

# (preset, given) -> (optimizer, lr, momentum): the documented defaults, typed here from docs/training.md.
CASES = [
    (None, {}, ("sgd", 0.01, 0.9)),
    (None, {"optimizer": "adam"}, ("adam", 1e-3, 0.0)),
    (None, {"optimizer": "adam", "init": "xavier", "train": "all"}, ("adam", 1e-4, 0.0)),
    (None, {"optimizer": "adam", "train": "all"}, ("adam", 1e-3, 0.0)),  # ImageNet weights, everything: 1e-3
    ("course", {}, ("adam", 1e-4, 0.0)),  # the preset alone: the course's own figures
    ("fine-tune", {}, ("sgd", 0.01, 0.9)),
    ("course", {"train": "head"}, ("adam", 1e-3, 0.0)),  # a head on Xavier features at 1e-4 stays at chance
    ("course", {"optimizer": "sgd"}, ("sgd", 0.01, 0.9)),  # not SGD at Adam's 1e-4 without momentum
    ("fine-tune", {"optimizer": "adam"}, ("adam", 1e-3, 0.0)),  # not Adam at SGD's 0.01
    ("fine-tune", {"optimizer": "adam", "lr": 3e-4}, ("adam", 3e-4, 0.0)),  # a rate given is kept
    ("course", {"optimizer": "sgd", "momentum": 0.5}, ("sgd", 0.01, 0.5)),
]


@pytest.mark.parametrize("preset, given, expected", CASES)
def test_defaults_follow_the_choices(preset, given, expected):
    r = recipes.with_defaults(preset, **given)
    assert (r.optimizer, r.momentum) == (expected[0], expected[2])
    assert r.lr == pytest.approx(expected[1], rel=1e-12)  # typed constants, no arithmetic: equal up to repr


def test_a_preset_keeps_its_other_settings():
    r = recipes.with_defaults("course", optimizer="sgd", epochs=None)  # None: not given
    assert (r.init, r.train, r.epochs, r.schedule) == ("xavier", "all", 30, "constant")


@pytest.mark.parametrize("argv, expected", [
    (["--preset", "fine-tune", "--optimizer", "adam"], ("adam", 1e-3)),
    (["--preset", "course", "--train", "head"], ("adam", 1e-3)),
    (["--preset", "course", "--optimizer", "sgd"], ("sgd", 0.01)),
])
def test_the_command_line_gives_a_preset_the_same_defaults(argv, expected, tmp_path, monkeypatch):
    """The recipe ``python -m vggviz train`` hands the trainer (stopped there: the choice is the point)."""
    seen = []

    class Stop(Exception):
        pass

    def fake_train(data, recipe, *args, **kwargs):
        seen.append(recipe)
        raise Stop

    monkeypatch.setattr(train_run, "train", fake_train)
    folder = tmp_path / "photos"
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True)
        (folder / name / "1.png").write_bytes(b"")  # never decoded: training stops before
        (folder / name / "2.png").write_bytes(b"")
    with pytest.raises(Stop):
        cli.main(["train", str(folder), *argv, "--format", "json"])
    (recipe,) = seen
    assert recipe.optimizer == expected[0] and recipe.lr == pytest.approx(expected[1], rel=1e-12)


@pytest.mark.parametrize("train, says, not_says", [("head", "A head on untrained", "last conv block"),
                                                   ("last-block", "The last conv block and the head", "A head on")])
def test_the_slow_adam_advice_names_what_trains(train, says, not_says):
    """Adam at 1e-4 over Xavier features: the note says what the recipe trains (the head, or the last block too)."""
    notes = [str(n) for n in recipes.advice(recipes.Recipe(init="xavier", train=train, optimizer="adam", lr=1e-4))]
    slow = [n for n in notes if "Adam at 0.0001" in n]
    assert len(slow) == 1 and says in slow[0] and not_says not in slow[0], notes
