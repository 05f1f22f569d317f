"""The Train page under AppTest, through app.py's navigation: the data's per-class counts, a recipe, the cost,
a real (tiny) run in the job queue, its curves and results, the links that open the checkpoint in the other
pages, a job found again by the id in its URL from a new session, a job waiting its turn, and training turned
off by the teacher."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import streamlit as st

import tiny_training
from app_pages import app, query_param, run, through_app_py  # noqa: F401 (a fixture)
from helpers import plain
from tests import job_functions as fns
from tests.test_jobs import TIMEOUT, wait_for
from ui import models
from vggviz import i18n
from vggviz.jobs import cost as jobs_cost
from vggviz.jobs import queue as jobs_queue
from vggviz.jobs import training
from vggviz.train.progress import Rates
from vggviz.train.recipe import Recipe

pytestmark = pytest.mark.usefixtures("through_app_py")


@pytest.fixture(autouse=True)
def server(tmp_path, monkeypatch):
    """A server of its own: empty checkpoint and data folders, its own job slots, a fresh queue."""
    monkeypatch.setenv("VGGVIZ_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("VGGVIZ_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("VGGVIZ_JOBS", str(tmp_path / "slots"))
    monkeypatch.setenv("VGGVIZ_TRAIN_THREADS", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no ImageNet weights here
    monkeypatch.setattr(jobs_queue.SHARED, "instance", None)
    monkeypatch.setattr(jobs_cost.SHARED, "instance", None)
    st.cache_resource.clear()
    yield tmp_path
    if jobs_queue.SHARED.instance is not None:
        jobs_queue.SHARED.instance.close()
    st.cache_resource.clear()
    models.MODELS.clear()  # the checkpoint opened in Evaluate: not a model of the next test's server


def page(lang: str = "en", **query) -> st.testing.v1.AppTest:
    at = app("app.py", lang=lang)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page("pages/train.py")
    return run(at)


def upload(at, data: bytes | None = None):
    at.file_uploader(key="train_zip").set_value(("tiny.zip", data or tiny_training.zip_bytes(), "application/zip"))
    return run(at)


@pytest.mark.parametrize("lang, words", [("en", ("Train", "Training photos", "a seeded split")),
                                         ("zh", ("训练", "训练集照片", "按随机种子划分"))])
def test_the_data_is_counted_per_class_before_training(lang, words):
    at = page(lang)
    assert at.title[0].value == words[0]
    at = upload(at)
    counts = next(d.value for d in at.dataframe if words[1] in d.value.columns)
    assert counts.iloc[:, 0].tolist() == ["blue", "red"]
    assert counts.iloc[:, 1].tolist() == [5, 5] and counts.iloc[:, 2].tolist() == [1, 1]  # 6 each, 10 % held out: 1
    assert any(words[2] in c.value for c in at.caption)
    assert any("10" in plain(w.value) for w in at.warning)  # too few photos in a class


def tiny_recipe(at):
    """Configuration A (vgg11), untrained (Xavier), the head only, one epoch at 64×64, batch 4, in one rerun:
    a rerun in between would ask the cost of a recipe on the way (vgg11 at 224), a second probe to wait for."""
    at.radio(key="train_init").set_value("xavier")
    at.selectbox(key="train_config").set_value("A")
    at.number_input(key="train_epochs").set_value(1)
    at.select_slider(key="train_batch").set_value(4)
    at.select_slider(key="train_size").set_value(64)
    at.toggle(key="train_augment_fine-tune").set_value(False)
    return run(at)


def measured(at):
    """The page once the probe has measured the cost of its recipe (in a worker process, as a job runs)."""
    q = jobs_queue.shared()
    wait_for(lambda: jobs_cost.shared().probes and not jobs_cost.shared()._waiting, "the cost's probe")
    assert q.settings.threads == 1
    return run(at)


def test_the_cost_is_measured_in_a_worker_once_not_on_every_rerun(server):
    """The page does not measure in the server's process: it says it is measuring, the probe runs in a worker
    process with the job's threads, and later reruns (another learning rate too) show the cost without
    measuring again."""
    at = tiny_recipe(upload(page()))
    assert any("Measuring a few training steps" in i.value and "1 thread," in i.value for i in at.info)
    assert at.button(key="train_start").disabled  # no Start before the cost is known
    at = measured(at)
    probes = jobs_cost.shared().probes  # the preset's recipe may have been measured too, before it was changed
    assert any("1 epoch at the speed measured here" in i.value for i in at.info)
    at.select_slider(key="train_lr").set_value(1e-2)
    at = run(run(at))
    assert any("1 epoch at the speed measured here" in i.value for i in at.info)
    assert jobs_cost.shared().probes == probes and not at.button(key="train_start").disabled
    zh = tiny_recipe(upload(page("zh")))  # another session, in Chinese: the server's figure, not measured again
    assert any("按这里测得的速度" in i.value for i in zh.info) and jobs_cost.shared().probes == probes


def known_cost() -> None:
    """The server knows the cost of tiny_recipe's kind of run, as an earlier job of that kind leaves it (seconds
    per photo and phase, of the order this machine takes): Start is there without a probe to wait for (the
    probe's own test is above)."""
    settings = jobs_queue.shared().settings
    tiny = Recipe(config="vgg11", init="xavier", train="head", batch=4, size=64)
    jobs_cost.shared().learn(tiny, settings.device, settings.threads, Rates(startup=8.0, cache=0.02, train=0.1,
                                                                            val=0.01))


def test_a_run_from_start_to_the_checkpoint_opened_in_evaluate(server):
    known_cost()
    at = upload(page())
    at.slider(key="train_val_share").set_value(0.35)
    at = tiny_recipe(run(at))
    assert any("1 epoch" in i.value for i in at.info)  # the cost before the start
    assert jobs_cost.shared().probes == 0  # a kind of run the server knows is not measured again
    assert at.text_input(key="train_name_vgg11-tiny.pth").value == "vgg11-tiny.pth"
    at.button(key="train_start").click()
    at = run(at)
    job_id = query_param(at, "job")
    q = jobs_queue.shared()
    job = q.wait(job_id, TIMEOUT)
    assert job.state == "done", job.error
    at = run(at)
    assert any("vgg11-tiny.pth" in plain(s.value) for s in at.success)
    assert (server / "checkpoints" / "vgg11-tiny.pth").is_file()
    spec = at.get("plotly_chart")[0].proto.spec
    assert "Loss" in spec and "Accuracy" in spec  # the curves; then per class and the confusion matrix
    assert len(at.get("plotly_chart")) == 3
    assert any("train.py" in b.proto.label for b in at.get("download_button"))

    # A new session (a reload, another tab) finds the job by the id in its URL.
    again = page("zh", job=job_id)  # in Chinese, for a reader of the other language
    assert any("已将 vgg11-tiny.pth 保存" in plain(s.value) for s in again.success)
    assert "损失" in again.get("plotly_chart")[0].proto.spec and again.get("download_button")
    in_zh = [parse_qs(e.proto.query_string) for e in again.get("page_link") if "ckpt=" in e.proto.query_string]
    assert len(in_zh) == 4 and all(query["lang"] == ["zh"] for query in in_zh)  # its links open the pages in Chinese

    # Links (a student can open them in a new tab or send them to the class) to four pages with the checkpoint.
    links = {e.proto.page: parse_qs(e.proto.query_string) for e in at.get("page_link")
             if "ckpt=" in e.proto.query_string}
    assert sorted(links) == ["attributions", "channel", "evaluate", "feature_maps"]
    assert all(query == {"ckpt": ["vgg11-tiny.pth"], "lang": ["en"]} for query in links.values())
    at.query_params.update({k: v[0] for k, v in links["evaluate"].items()})  # following one, as a browser does
    at.switch_page("pages/evaluate.py")
    at = run(at)
    assert at.session_state["weights"] == "checkpoint" and at.session_state["ckpt_choice"] == "vgg11-tiny.pth"
    assert at.title[0].value == "Evaluate a folder"
    at.switch_page("pages/train.py")  # back from another page: the URL lost ?job=, the session kept it
    at = run(at)
    assert any("vgg11-tiny.pth" in plain(s.value) for s in at.success)
    assert query_param(at, "job") == job_id


def test_a_job_waiting_its_turn_shows_its_place_and_can_be_cancelled(server):
    q = jobs_queue.shared()
    started, release = server / "started", server / "release"
    first = q.submit(fns.gate, str(started), str(release))
    wait_for(started.exists, "the first job")
    recipe = Recipe(config="vgg11", init="xavier", epochs=1, size=64)
    about = training.About("tiny.zip", ("blue", "red"), recipe.record(), None, 8)
    waiting = training.submit(q, tiny_training.zip_bytes(), "tiny.zip", recipe.record(), None, about=about,
                              estimate=30.0, label="Run 1")
    for lang, words in (("en", "number 1 in this server's queue"), ("zh", "排第 1 位")):
        at = page(lang, job=waiting.id)
        assert any(words in i.value for i in at.info), [i.value for i in at.info]
    at.button(key=f"train_cancel_{waiting.id}").click()
    at = run(at)
    assert waiting.state == "cancelled" and first.state == "running"
    assert [i.value for i in at.info if "nothing was saved" in i.value or "没有保存" in i.value]
    release.write_text("go")
    q.wait(first.id, TIMEOUT)


def test_a_data_set_beyond_the_teachers_cap_is_refused_before_the_start(monkeypatch):
    monkeypatch.setenv("VGGVIZ_TRAIN_MAX_PHOTOS", "6")
    at = tiny_recipe(upload(page()))  # 10 training photos
    assert any("VGGVIZ_TRAIN_MAX_PHOTOS" in plain(e.value) for e in at.error)
    assert not [b for b in at.button if b.key == "train_start"] and not at.info  # nothing measured, no Start


def test_an_unknown_job_is_said_and_training_off_is_said(monkeypatch):
    at = page(job="no-such-job")
    assert any("no-such-job" in plain(w.value) for w in at.warning), [w.value for w in at.warning]
    monkeypatch.setenv("VGGVIZ_TRAINING", "off")
    monkeypatch.setattr(jobs_queue.SHARED, "instance", None)
    at = page("zh")
    assert [i.value for i in at.info] == [i18n.translations("zh").gettext(
        "Training is turned off on this server (VGGVIZ_TRAINING=off).")]
    assert not at.file_uploader


@pytest.mark.parametrize("fn, kind", [(fns.fail, "ValueError"), (fns.fail_unpicklable, "Unpicklable")])
def test_a_job_that_failed_unexpectedly_is_one_translated_sentence_without_a_traceback(fn, kind):
    """An error the trainer does not make a sentence of (here a ValueError's English text, or an exception that
    could not be pickled, sent back as its traceback): the page names its kind in the reader's language."""
    q = jobs_queue.shared()
    recipe = Recipe(config="vgg11", init="xavier", epochs=1, size=64)
    about = training.About("tiny.zip", ("blue", "red"), recipe.record(), None, 8)
    job = q.submit(fn, label="Run 1", meta=about)
    assert q.wait(job.id, TIMEOUT).state == "failed"
    for lang, words in (("en", "unexpected error"), ("zh", "意外错误")):
        shown = [plain(e.value) for e in page(lang, job=job.id).error]
        assert len(shown) == 1 and words in shown[0] and kind in shown[0], shown
        assert "Traceback" not in shown[0] and "bad input" not in shown[0] and "cannot cross" not in shown[0]


def test_a_probe_that_failed_is_said_without_its_traceback(monkeypatch):
    """The cost's probe ended with an exception that could not be pickled (the worker sends its traceback): the
    page says the cost could not be measured, naming the kind only, and Start stays possible."""
    from vggviz.jobs.worker import Failure

    failed = jobs_cost.Answer(None, Failure("RuntimeError", 'Traceback (most recent call last):\n  File "x.py"'))
    monkeypatch.setattr(jobs_cost, "_run_probe", lambda *args: failed)
    at = measured(tiny_recipe(upload(page())))
    shown = [plain(w.value) for w in at.warning if "could not be measured" in plain(w.value)]
    assert shown and all("RuntimeError" in w and "Traceback" not in w for w in shown), shown


def test_the_cosine_help_says_the_rate_the_last_epoch_trains_at():
    """The preset's 5 epochs of cosine to 0.01: the epochs train at (1 + cos(πe/5)) / 2 × 0.99 + 0.01 of the
    start (the course's lambda, stepped after each epoch), so the last one at 10 %, not 1 %."""
    import math

    at = upload(page())
    last = (1 + math.cos(4 * math.pi / 5)) / 2 * 0.99 + 0.01
    helptext = plain(at.radio(key="train_schedule").help)
    assert f"{last:.0%}" == "10%" and "trains at 10%" in helptext and "1%" in helptext, helptext


def ended_job(data: str) -> str:
    """A job of the Train page's kind that ended at once (failed), its data called ``data``: its panel shows
    "Show as code" without a real run."""
    q = jobs_queue.shared()
    recipe = Recipe(config="vgg11", init="xavier", epochs=1, size=64)
    about = training.About(data, ("blue", "red"), recipe.record(), None, 8)
    job = q.submit(fns.fail, label="Run 1", meta=about)
    assert q.wait(job.id, TIMEOUT).state == "failed"
    return job.id


@pytest.mark.parametrize("lang, words", [("en", "unzip tiny.zip into a folder tiny"), ("zh", "先把 tiny.zip 解压到文件夹 tiny")])
def test_show_as_code_for_a_zip_reads_the_folder_it_is_unzipped_into(lang, words):
    """The script's ImageFolder reads a folder: an uploaded zip's script takes the folder named after it, and the
    caption says to unzip it there first."""
    at = page(lang, job=ended_job("tiny.zip"))
    (script,) = [c.value for c in at.code]
    assert "--data-path tiny\n" in script and "default='tiny')" in script and "tiny.zip" not in script
    captions = [plain(c.value) for c in at.caption]
    assert any(words in c and "--data-path tiny" in c for c in captions), captions


def test_show_as_code_for_a_server_folder_keeps_its_name():
    at = page(job=ended_job("flowers"))
    (script,) = [c.value for c in at.code]
    assert "default='flowers')" in script
    assert any("with the photos in flowers" in plain(c.value) for c in at.caption)


def test_a_job_forgotten_during_the_run_is_drawn_as_found_without_a_traceback(monkeypatch):
    """The queue forgets an ended job (six hours, or its 200 newest) between the page's lookup and the panel's:
    the panel draws the job found once, no exception."""
    job_id = ended_job("tiny.zip")
    q = jobs_queue.shared()
    real_get, asked = q.get, []

    def forgetting(wanted):
        asked.append(wanted)
        return real_get(wanted) if asked.count(job_id) == 1 else None

    monkeypatch.setattr(q, "get", forgetting)
    at = page(job=job_id)
    assert not at.exception, [e.value for e in at.exception]
    assert any("unexpected error" in plain(e.value) for e in at.error) and at.code


def test_a_server_folder_removed_after_the_listing_is_said_without_a_traceback(server, monkeypatch):
    """The folder is listed, then removed before the page reads its modification time."""
    from vggviz.train import data as train_data

    (server / "data" / "flowers").mkdir(parents=True)
    at = page()
    at.radio(key="train_source").set_value("A folder on the server")
    monkeypatch.setattr(train_data, "find", lambda name, root=None: server / "data" / "gone")
    at = run(at)
    assert not at.exception, [e.value for e in at.exception]
    assert any("no longer in the server's data folder" in plain(w.value) for w in at.warning)


def test_the_val_share_and_its_help_follow_the_recipes_one_figure(monkeypatch):
    """The slider's start and the help's percentage are the recipe's VAL_SHARE, not figures typed again."""
    from vggviz.train import recipe as recipes

    monkeypatch.setattr(recipes, "VAL_SHARE", 0.2)
    at = upload(page())
    slider = at.slider(key="train_val_share")
    assert slider.value == pytest.approx(0.2, abs=1e-9)  # the figure given, read back through the widget
    assert "(20%)" in plain(slider.help), slider.help
