"""Streamlit glue for the CAM family and "Can I trust this map?" on the attributions page: the CAM settings,
Score-/Ablation-CAM started on demand (estimated time first, a progress bar and a cancel button while they
run), the per-block strip with grad-cam's methods, and the faithfulness section with its baselines and the
compare-every-method table. Results are cached by content (the result key of ``ui.models``), bounded.

Cancelling: Streamlit interrupts a running script at its next element update when the user clicks any
widget, so a click on "Cancel" stops the computation at its next progress update (between two batches); the
rerun that follows sees the click, forgets the start and keeps nothing (an interrupted cached call is not
cached). The engine's cancel token serves callers outside Streamlit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import astuple, replace

import numpy as np
import streamlit as st

from ui import models, present
from vggviz.explain import faithfulness, trust_view
from vggviz.explain.attributions import attributor
from vggviz.explain.cams import CamError, CamParams, Estimate, estimate, strip as cam_strip
from vggviz.explain.methods import (
    ALL_METHODS, CAM_METHODS, EIGEN_SMOOTH, FAITHFULNESS_STEPS, LAYER_METHODS, PER_CHANNEL,
)
from vggviz.i18n import _
from vggviz.photo import device as devices, memory, render, tracing
from vggviz.photo.inference import LoadedModel, Result, input_tensor

ROAD_CHOICES = tuple(range(10, 100, 10))


# --- the CAM family ---------------------------------------------------------------------------------------

def settings(method: str, lm: LoadedModel, convs: list[str]) -> dict:
    """The CAM settings inside the page's settings expander: layer, aug_smooth, eigen_smooth where it applies.
    The layer's key carries the configuration, so each configuration starts at its own last conv layer."""
    kw = {"layer": st.selectbox(_("Layer the map is read from"), convs, index=len(convs) - 1,
                                key=f"cam_layer_{lm.config.name}",
                                help=_("Default: the last conv layer. Earlier layers give finer, less "
                                       "class-specific maps."))}
    kw["aug_smooth"] = st.toggle(_("aug_smooth: average over flips and brightness changes (six passes)"),
                                 key="cam_aug_smooth")
    if method in EIGEN_SMOOTH:
        kw["eigen_smooth"] = st.toggle(_("eigen_smooth: first principal component instead of the channel sum"),
                                       key="cam_eigen_smooth")
    if method == "eigencam":
        st.caption(_("Eigen-CAM ignores the class: it shows the layer's first principal component."))
    return kw


def duration(seconds: float) -> str:
    if seconds < 60:
        return _("{seconds:.0f} s", seconds=max(seconds, 1))
    return _("{minutes:.0f} min {seconds:02.0f} s", minutes=seconds // 60, seconds=seconds % 60)


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def _estimate(_lm: LoadedModel, _result: Result, model_key: tuple, params: CamParams) -> Estimate:
    with st.spinner(_("Timing one batch of forwards…")), tracing.MODULES.shared():
        return estimate(attributor(_lm), input_tensor(_lm, _result), params)


def attribution(lm: LoadedModel, result: Result, result_key: tuple, params: CamParams) -> np.ndarray:
    """The map of a CAM method. Score-/Ablation-CAM run only once the user starts them, after the estimated time
    is shown; the page stops here until then. A bad layer for the method stops the page with the message."""
    try:
        if params.method not in PER_CHANNEL:
            return models.attribution(lm, result, result_key, params)
        return _per_channel(lm, result, result_key, params)
    except CamError as exc:
        st.error(str(exc))
        st.stop()


def _per_channel(lm: LoadedModel, result: Result, result_key: tuple, params: CamParams) -> np.ndarray:
    key = (result_key, astuple(params))
    started = st.session_state.setdefault("cam_started", set())
    if key not in started:
        est = _estimate(lm, result, result_key[0], replace(params, target=0))  # the class changes nothing here
        if st.session_state.pop("cam_cancelled", None) == key:
            st.warning(_("Stopped before the end; nothing was kept."))
        st.info(_("{method} at {layer} runs one forward per channel: {forwards} batches of {batch} images, "
                  "about {time} on {device}.", method=_(CAM_METHODS[params.method]), layer=params.layer,
                  forwards=est.forwards, batch=est.batch, time=duration(est.seconds),
                  device=devices.describe(lm.device)))
        if st.button(_("Start {method}", method=_(CAM_METHODS[params.method])), key="cam_start", type="primary"):
            started.add(key)
            st.rerun()
        st.stop()
    slot = st.empty()
    if slot.button(_("Cancel {method}", method=_(CAM_METHODS[params.method])), key="cam_cancel"):
        started.discard(key)
        st.session_state.cam_cancelled = key
        st.rerun()
    attr = models.attribution(lm, result, result_key, params)
    slot.empty()
    return attr


def strip_label(method: str) -> str:
    return _(LAYER_METHODS[method] if method in LAYER_METHODS else CAM_METHODS[method])


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def strip(_lm: LoadedModel, _result: Result, result_key: tuple, target: int, layers: tuple[str, ...],
          method: str) -> dict[str, np.ndarray]:
    """A grad-cam method at several layers from one forward and backward (``STRIP_CAMS``)."""
    with st.spinner(_("Computing the CAM strip…")), tracing.MODULES.shared():
        try:
            return cam_strip(attributor(_lm), input_tensor(_lm, _result), target, list(layers), method)
        finally:
            memory.release_free_memory()


# --- can I trust this map? --------------------------------------------------------------------------------

@contextlib.contextmanager
def _progress(text: str) -> Iterator[Callable[[float], None]]:
    """A progress bar while the block runs (its report function), then the freed memory handed back."""
    bar, report = models._bar(text)
    try:
        with tracing.MODULES.shared():  # no torch.fx trace meanwhile (vggviz.photo.tracing)
            yield report
    finally:
        bar.empty()
        memory.release_free_memory()


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)
def _scores(_lm: LoadedModel, _result: Result, _attr: np.ndarray, attr_key: tuple, target: int, steps: int,
            road: tuple[int, ...]) -> dict[str, faithfulness.Scores]:
    with _progress(_("Deleting and inserting pixels…")) as report:
        return faithfulness.evaluate(attributor(_lm), input_tensor(_lm, _result), _result.preprocess, _attr, target,
                                     steps, road,
                                     progress=report)


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def _steps_pngs(_lm: LoadedModel, _result: Result, _attr: np.ndarray, attr_key: tuple, steps: int,
                kind: str, ks: tuple[int, ...]) -> list[bytes]:
    images = faithfulness.photos(input_tensor(_lm, _result), _result.preprocess, _attr, steps, kind, ks)
    return [render.png(i) for i in images]


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)
def _compare(_lm: LoadedModel, _result: Result, result_key: tuple, target: int, methods: tuple[str, ...],
             steps: int) -> list[faithfulness.Row]:
    """The compare table, once per model, photo, class, methods and steps."""
    with _progress(_("Computing and scoring every method…")) as report:
        return faithfulness.compare(attributor(_lm), input_tensor(_lm, _result), _result.preprocess, target, None,
                                    methods, steps,
                                    progress=report)


def section(lm: LoadedModel, result: Result, result_key: tuple, attr: np.ndarray, attr_key: tuple,
            method: str, target: int) -> None:
    """"Can I trust this map?": deletion and insertion curves with perturbed photos, the numbers beside a random
    map's and the photo's Sobel edges', and the compare-every-method table, each computed on demand."""
    st.subheader(_("Can I trust this map?"))
    st.caption(_("Perturbation tests of faithfulness. Deletion removes the pixels the map ranks highest first; if "
                 "the map is right the class's probability falls fast (small area). Insertion puts them back "
                 "into a blurred photo; it should rise fast (large area). A random map and the photo's Sobel "
                 "edges are the baselines: a method that does no better than edges explains nothing."))
    c1, c2 = st.columns(2)
    steps = c1.slider(_("Deletion and insertion steps"), 2, 50, FAITHFULNESS_STEPS, key="trust_steps")
    road = c2.multiselect(_("ROAD percentiles"), ROAD_CHOICES, default=list(faithfulness.ROAD_PERCENTILES),
                          key="trust_road", help=_("ROAD (Rong et al., ICML 2022) imputes the removed pixels from "
                                                   "their neighbours; the result is averaged over these "
                                                   "percentiles. None: skip ROAD."))
    name = _(ALL_METHODS[method])
    if st.toggle(_("Measure this map"), key="trust_on",
                 help=_("About {n} forward passes on the photo.", n=3 * (2 * steps + 1 + 2 * len(road)))):
        scores = _scores(lm, result, attr, attr_key, target, steps, tuple(sorted(road)))
        st.plotly_chart(present.chart(trust_view.curves(scores, name)), key="trust_curves")
        ks = tuple(sorted({0, steps // 4, steps // 2, 3 * steps // 4}))
        for kind, title in (("deletion", _("Deletion")), ("insertion", _("Insertion"))):
            pictures = _steps_pngs(lm, result, attr, attr_key, steps, kind, ks)
            for col, k, png in zip(st.columns(len(ks)), ks, pictures):
                col.image(png, width="stretch", caption=_("{kind}, {fraction:.0%} of the pixels", kind=title,
                                                          fraction=k / steps))
        st.dataframe(trust_view.score_rows(scores, name), hide_index=True, key="trust_numbers")
    _compare_section(lm, result, result_key, target, steps)


def _compare_section(lm: LoadedModel, result: Result, result_key: tuple, target: int, steps: int) -> None:
    st.markdown("#### " + _("Compare every method on this photo"))
    fast = [m for m in ALL_METHODS if m not in PER_CHANNEL]
    methods = st.multiselect(_("Methods to compare"), list(ALL_METHODS), default=fast, key="compare_methods",
                             format_func=lambda m: _(ALL_METHODS[m]),
                             help=_("Score-CAM and Ablation-CAM take one forward per channel: add them when you "
                                    "can wait."))
    if methods and st.toggle(_("Compare them"), key="compare_on",
                             help=_("Every method at the last conv layer and its default settings, scored by "
                                    "deletion and insertion without ROAD.")):
        order = tuple(m for m in ALL_METHODS if m in methods)
        rows = _compare(lm, result, result_key, target, order, steps)
        names = {**{m: _(ALL_METHODS[m]) for m in order},
                 **{b: _(faithfulness.COLUMNS[b]) for b in faithfulness.BASELINES}}
        st.dataframe(trust_view.compare_rows(rows, names), hide_index=True, key="compare_table")
        st.caption(_("Time: computing the map alone. grad-cam's gradient methods share one forward and backward "
                     "pass, so each row counts that pass."))
