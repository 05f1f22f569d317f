"""Streamlit glue for "Evaluate a folder": the zip upload, the evaluation (cached per model, zip digest and
preprocessing, every session sharing it) with a progress bar and a cancel button, the results, and the
side-by-side Grad-CAM of one mistake.

Cancelling: a click on any widget, the cancel button included, makes Streamlit stop the running script at
its next call (the progress bar's, after each batch); the engine's ``finally`` shuts the DataLoader's
workers down and nothing is cached. The page then says that the evaluation stopped."""

from __future__ import annotations

import hashlib

import streamlit as st

from ui import models, present
from vggviz import i18n, text
from vggviz.evaluate import archive, charts, report, why
from vggviz.evaluate.archive import Listing
from vggviz.evaluate.errors import EvaluationError
from vggviz.evaluate.run import Evaluation, Progress, evaluate
from vggviz.explain import attribution_view as view
from vggviz.i18n import _
from vggviz.photo import render
from vggviz.photo.inference import LoadedModel

ZIP_MB = 50  # the most this page accepts, and never more than the server's upload limit
GALLERY = 12  # most confident mistakes shown
THUMBNAIL = 192


def upload_limit_mb() -> int:
    return min(ZIP_MB, int(st.get_option("server.maxUploadSize")))


def zip_upload() -> tuple[bytes, str, str] | None:
    """The uploaded zip: (bytes, file name, SHA-256), or None."""
    limit = upload_limit_mb()
    upload = st.file_uploader(
        _("Zip of class folders"), type=["zip"], key="eval_zip", max_upload_size=limit,
        help=_("One folder of photos per class, named as the model's classes (daisy/001.jpg, …), optionally "
               "inside one leading folder such as val/. Up to {mb} MB, the app's upload limit.", mb=limit))
    if upload is None:
        return None
    data = upload.getvalue()
    digests = st.session_state.setdefault("eval_digests", {})
    if upload.file_id not in digests:
        digests[upload.file_id] = hashlib.sha256(data).hexdigest()
    return data, upload.name, digests[upload.file_id]


@st.cache_resource(max_entries=2, ttl=1800, show_spinner=False)
def listing(digest: str, name: str, _data: bytes) -> Listing:
    """The zip's class folders, read once per digest (raises EvaluationError for a hostile archive)."""
    return archive.open_zip(_data, name)


def run(lm: LoadedModel, listing_: Listing, digest: str, preprocess: str) -> Evaluation | None:
    """Evaluate on a click of the button (with a cancel button beside it while it runs); afterwards the cached
    result, until the model, zip or preprocessing changes. None when there is nothing to show yet."""
    key = (models.model_key(lm), digest, preprocess)
    stopped = st.session_state.pop("eval_running", None) is not None  # set while running: a click stopped it
    left, right = st.columns([1, 4])
    start = left.button(_("Evaluate the model"), key="eval_run", type="primary")
    if not start and st.session_state.get("eval_done") != key:
        if stopped:
            st.info(str(EvaluationError("cancelled")))
        return None
    if start:
        right.button(_("Cancel the evaluation"), key="eval_cancel")
    st.session_state.eval_running = key
    try:
        ev = _evaluation(lm, key, listing_)
    except EvaluationError as exc:
        st.error(text.markdown(str(exc)))
        return None
    finally:
        st.session_state.pop("eval_running", None)
    st.session_state.eval_done = key
    return ev


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def _evaluation(_lm: LoadedModel, key: tuple, _listing: Listing) -> Evaluation:
    # ``key`` = (model, zip digest, preprocessing) identifies the result, which holds no translated text
    # (skip reasons are coded errors): every session shares it, whatever its language.
    bar = st.progress(0.0, text=_("Starting the decoding workers…"))

    def progress(p: Progress) -> None:
        left = "…" if p.seconds_left is None else f"{p.seconds_left:.0f}"
        bar.progress(p.fraction, text=_("{done} of {total} photos, {rate:.1f} photos/s, {left} s left",
                                        done=p.done, total=p.total, rate=p.images_per_s, left=left))
    try:
        return evaluate(_lm, _listing, preprocess=key[2], progress=progress)
    finally:
        bar.empty()


# --- results ----------------------------------------------------------------------------------------

def results(lm: LoadedModel, ev: Evaluation, listing_: Listing, digest: str) -> None:
    """Figures, per-class table, confusion heat map, downloads and the mistakes of a finished evaluation."""
    m = ev.metrics
    cols = st.columns(4)
    cols[0].metric(_("Accuracy (top-1)"), f"{m.accuracy:.1%}")
    cols[1].metric(_("Top-5 accuracy"), "—" if m.top5_accuracy is None else f"{m.top5_accuracy:.1%}",
                   help=_("Shown with 5 classes or more: the true class among the five most probable."))
    cols[2].metric(_("Photos evaluated"), len(ev.predictions))
    cols[3].metric(_("Files skipped"), len(ev.skipped))
    st.caption(_("{seconds:.1f} s · {model}", seconds=ev.seconds, model=text.markdown(lm.describe())))
    if ev.skipped:
        with st.expander(_("Skipped files and why")):
            st.dataframe({_("Skipped file"): [s.file for s in ev.skipped],
                          _("Why it was skipped"): [str(s.reason) for s in ev.skipped]},
                         key="eval_skipped", hide_index=True)
    st.subheader(_("Per class"))
    percent = st.column_config.NumberColumn(format="%.1f%%")
    st.dataframe({_("Class"): [c.name for c in m.per_class],
                  _("Precision"): _percents(c.precision for c in m.per_class),
                  _("Recall"): _percents(c.recall for c in m.per_class), "F1": _percents(c.f1 for c in m.per_class),
                  _("Support"): [c.support for c in m.per_class]},
                 column_config={_("Precision"): percent, _("Recall"): percent, "F1": percent},
                 key="eval_per_class", hide_index=True, placeholder="")
    st.caption(_("Precision: of the photos predicted as the class, the share that are; recall: of the photos of "
                 "the class, the share found; F1: their harmonic mean. Empty: not defined (nothing to divide by)."))
    normalised = st.toggle(_("Shares of each true class (row-normalised)"), key="eval_normalise")
    key = (models.model_key(lm), digest, ev.preprocess)
    st.plotly_chart(present.chart(_confusion(ev, key, normalised, i18n.language())), key="eval_confusion")
    left, right = st.columns(2)
    left.download_button(_("Download the figures (JSON)"), lambda: report.to_json(ev), "evaluation.json",
                         "application/json", on_click="ignore", key="eval_json")
    right.download_button(_("Download one row per photo (CSV)"), lambda: report.to_csv(ev), "evaluation.csv",
                          "text/csv", on_click="ignore", key="eval_csv")
    mistakes(lm, ev, listing_, digest)


def _percents(values) -> list[float | None]:
    """Ratios as percentages for the table; None (undefined) stays an empty cell."""
    return [None if v is None else 100 * v for v in values]


@st.cache_resource(max_entries=16, ttl=3600, show_spinner=False)
def _confusion(_ev: Evaluation, key: tuple, normalised: bool, lang: str):
    # ``key`` (model, zip digest, preprocessing) identifies ``_ev``; the figure's words are in ``lang``.
    return charts.confusion_chart(_ev.metrics.confusion, _ev.classes, normalised)


def mistakes(lm: LoadedModel, ev: Evaluation, listing_: Listing, digest: str) -> None:
    """The most confident mistakes; a click on one shows Grad-CAM for its true and predicted class."""
    wrong = ev.mistakes()[:GALLERY]
    st.subheader(_("Most confident mistakes"))
    if not wrong:
        st.success(_("No mistakes: every photo was classified correctly."))
        return
    chosen = st.session_state.get("eval_why")
    for row in range(0, len(wrong), 4):
        for i, (col, p) in enumerate(zip(st.columns(4), wrong[row:row + 4]), start=row):
            col.image(_thumbnail(digest, p.file, listing_), width="stretch",
                      caption=_("{file}: {true}, predicted {predicted} ({prob:.1%})", file=text.markdown(p.file),
                                true=text.markdown(ev.classes[p.true]),
                                predicted=text.markdown(ev.classes[p.predicted]), prob=p.prob))
            if col.button(_("Why?"), key=f"eval_why_{i}"):
                chosen = st.session_state.eval_why = p.file
    p = next((p for p in wrong if p.file == chosen), None)
    if p is not None:
        explain(lm, ev, listing_, digest, p)


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _thumbnail(digest: str, file: str, _listing: Listing) -> bytes:
    image = why.photo(_listing, file)  # decoded once already, during the evaluation
    image.thumbnail((THUMBNAIL, THUMBNAIL))
    return render.png(image)


def explain(lm: LoadedModel, ev: Evaluation, listing_: Listing, digest: str, p) -> None:
    true, predicted = ev.classes[p.true], ev.classes[p.predicted]
    st.subheader(_("Why {predicted} and not {true}?", predicted=text.markdown(predicted), true=text.markdown(true)))
    pictures, layer = _contrast(lm, models.model_key(lm), digest, p.file, ev.preprocess,
                                ev.indices[p.true], ev.indices[p.predicted], listing_)
    left, right = st.columns(2)
    left.image(pictures[0], width="stretch", caption=_("Grad-CAM for {name}, the true class", name=text.markdown(true)))
    right.image(pictures[1], width="stretch",
                caption=_("Grad-CAM for {name}, the predicted class ({prob:.1%})", name=text.markdown(predicted),
                          prob=p.prob))
    st.caption(_("{file} · Grad-CAM at {layer}: where the evidence for each class lies. Where the two maps "
                 "look at different parts of the photo, the model took one part for the other class.",
                 file=text.markdown(p.file), layer=layer))


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def _contrast(_lm: LoadedModel, model_key: tuple, digest: str, file: str, preprocess: str, true: int,
              predicted: int, _listing: Listing) -> tuple[tuple[bytes, bytes], str]:
    with st.spinner(_("Computing Grad-CAM for both classes…")):
        c = why.contrast(_lm, why.photo(_listing, file), preprocess, true, predicted)
    pictures = tuple(render.png(view.draw(m, c.seen, "blended_heat_map", "positive")) for m in (c.true, c.predicted))
    return pictures, c.layer
