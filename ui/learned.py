"""Streamlit glue for "What each channel looks for": the unit from a link (kept in step with the URL), the
feature visualisation, the dataset examples, conv1_1's filter, the class models, the layer gallery and the
same unit under other weights.

Everything long starts on a button after its estimated time is shown, runs with a progress bar (and the image
as it forms), and stops on Cancel: Streamlit interrupts a running script at its next element update when any
widget is clicked, so a click on Cancel stops the run at its next progress report; the rerun that follows sees
the click and forgets the start (``ui.trust``'s pattern). The engine writes a finished result into the gallery
folder, so every session (and this one, after a rerun) opens it at once; results are also kept here in a
bounded cache keyed by content (``models.model_key``), so display-only reruns recompute nothing even where the
gallery folder cannot be written.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
import streamlit as st

import ui
from ui import channel_link, dependent, models, present, screen
from ui.evaluate import upload_limit_mb
from ui.trust import duration
from vggviz import text
from vggviz.evaluate.errors import EvaluationError
from vggviz.i18n import N_, _, ngettext
from vggviz.learned import charts, class_model, collection, examples, filters, layer_gallery, link, patches, visualize
from vggviz.learned.network import channels_of, conv_layers
from vggviz.learned.visualize import Settings, VisualizeError
from vggviz.photo import device as devices, lru, memory, render, tracing
from vggviz.photo.inference import LoadedModel

T = TypeVar("T")

LINK = "ch_link"  # the unit the last link named (its layer and channel are the widgets' defaults)
WRITTEN = "ch_url"  # the unit's query parameters as this page last wrote them
# The optimisation's settings: quick enough for a CPU, or lucent's published defaults (512 steps, 128 px).
PRESETS = {"quick": visualize.QUICK, "lucent": Settings()}
PRESET_LABELS = {"quick": N_("Quick, for a CPU"), "lucent": N_("lucent's defaults")}
# The class models' settings for each preset: (Simonyan et al.'s, the Fourier one's).
CLASS_PRESETS = {"quick": (class_model.SimonyanSettings(steps=50), replace(visualize.QUICK, size=128)),
                 "lucent": (class_model.SimonyanSettings(), class_model.FOURIER)}
UNIT_LABELS = {"mean": N_("mean over positions"), "centre": N_("centre unit")}
SOURCES = {"prepared": N_("Prepared by the teacher"), "samples": N_("The sample photos"),
           "upload": N_("A zip of photos")}
WEIGHT_LABELS = {"imagenet": N_("ImageNet"), "checkpoint": N_("this checkpoint"), "random": N_("untrained")}
GALLERY_SIZES = (8, 16, 32, 64)

# Finished results by content key, shared by the sessions; bounded by bytes.
def _bytes(value: Any) -> int:
    """About what a result holds: its pictures, or its arrays (dataset examples)."""
    arrays = [getattr(value, "images", None), getattr(value, "image", None),
              *getattr(value, "arrays", {}).values()]
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray)) + 4096


RESULTS: lru.BytesLRU[Any] = lru.BytesLRU(64 * 2**20, _bytes)


def _remembered(key: tuple, find: Callable[[], T | None]) -> T | None:
    """What ``RESULTS`` holds under ``key``, else ``find()`` (kept when found)."""
    if key in RESULTS:
        return RESULTS.get(key, find)
    found = find()
    if found is not None:
        RESULTS.put(key, found)
    return found


# --- the unit: from a link, in the widgets, back into the URL --------------------------------------------

def read_link() -> None:
    """Apply the URL's unit when it is a new link (not what this page last wrote): its configuration goes to
    the sidebar's selector (call before ``ui.config_selector``), its layer and channel become the widgets'
    defaults; the unknown parts get one message and their fallbacks."""
    params = {k: st.query_params.get(k) for k in link.PARAMS}
    if all(v is None for v in params.values()) or params == st.session_state.get(WRITTEN):
        return
    unit, problems = link.parse(params, st.session_state.get("config", "D"))
    if problems:  # one message, a sentence for each part that names nothing
        st.warning("\n\n".join(text.markdown(str(p)) for p in problems), icon=":material/link_off:")
    st.session_state["config"] = unit.config
    st.session_state[LINK] = unit


def unit_picker(lm: LoadedModel) -> tuple[str, int]:
    """The layer and channel widgets: the link's unit, else the last conv layer's channel 0; written back to the
    URL so that the address bar always names the unit shown."""
    convs = list(conv_layers(lm.model))
    named = st.session_state.get(LINK)
    named = named if named is not None and named.config == lm.config.name else None
    left, right = st.columns(2)
    with left:
        layer = dependent.widget(st.selectbox, _("Layer"), convs, key="ch_layer",
                                 default=named.layer if named and named.layer in convs else convs[-1],
                                 depends_on=(lm.config.name, named))
    last = channels_of(lm, layer) - 1
    with right:
        channel = dependent.widget(st.number_input, _("Channel"), 0, last, key="ch_channel",
                                   default=named.channel if named and named.layer == layer and named.channel <= last
                                   else 0, depends_on=(lm.config.name, layer, named), step=1)
    written = link.query(lm.config.name, layer, int(channel))
    st.query_params.update(written)
    st.session_state[WRITTEN] = written
    return layer, int(channel)


def share(lm: LoadedModel, layer: str, channel: int) -> None:
    """The unit's address, to copy: whoever opens it sees this unit (with their own sidebar's weights)."""
    st.caption(_("A link to this unit, for the class (the weights are each reader's sidebar choice):"))
    st.code(channel_link.url(lm.config.name, layer, channel), language=None, wrap_lines=True)


SETTINGS_DEFAULTS = {"ch_preset": "quick", "ch_unit": "mean", "ch_negative": False, "ch_diversity": False,
                     "ch_seed": 0}


def settings_picker() -> tuple[str, Settings, int]:
    """The optimisation's settings, in an expander: (preset, settings, seed); kept across page switches."""
    for key, default in SETTINGS_DEFAULTS.items():
        ui._keep(key, default)
    with st.expander(_("Settings of the optimisation"), key="ch_settings_box"):
        c1, c2 = st.columns(2)
        preset = c1.radio(_("Steps and size"), list(PRESETS), key="ch_preset", format_func=lambda p: _(
            "{label}: {steps} steps, {size} px", label=_(PRESET_LABELS[p]), steps=PRESETS[p].steps,
            size=PRESETS[p].size))
        unit = c1.radio(_("What is maximised"), list(UNIT_LABELS), key="ch_unit", horizontal=True,
                        format_func=lambda u: _(UNIT_LABELS[u]))
        negative = c2.toggle(_("Negative: the image the channel responds to least"), key="ch_negative")
        diverse = c2.toggle(_("Diversity: {n} images pushed apart", n=visualize.DIVERSITY_IMAGES),
                            key="ch_diversity")
        seed = int(c2.number_input(_("Seed"), 0, 9999, key="ch_seed"))
    settings = replace(PRESETS[preset], unit=unit, negative=negative)
    if diverse:
        settings = replace(settings, images=visualize.DIVERSITY_IMAGES, diversity=visualize.DIVERSITY_WEIGHT)
    return preset, settings, seed


# --- a long computation: estimate, Start, progress, Cancel --------------------------------------------------

def _progress_bar(label: str) -> tuple[Any, Callable[[float, str], None]]:
    bar = st.progress(0.0, text=label)
    return bar, lambda f, said: bar.progress(min(max(f, 0.0), 1.0), text=f"{label} {said}")


def job(name: str, key: tuple, seconds: Callable[[], float], start: str, work: Callable[[], T],
        lm: LoadedModel) -> T | None:
    """``work()`` once the user has pressed Start (the estimated time shown first); a Cancel button while it
    runs; None until it has finished. ``name``: the widgets' key part; ``key``: what the work computes."""
    started = st.session_state.setdefault("ch_started", {})
    cancelled = st.session_state.setdefault("ch_cancelled", {})
    if started.get(name) != key:
        if cancelled.pop(name, None) == key:
            st.warning(_("Stopped before the end; nothing was kept."))
        try:
            said = duration(seconds())
        except (VisualizeError, examples.ExamplesError) as exc:
            st.error(text.markdown(str(exc)))
            return None
        st.caption(_("About {time} on {device}.", time=said, device=devices.describe(lm.device)))
        if st.button(start, key=f"ch_{name}_start", type="primary"):
            started[name] = key
            st.rerun()
        return None
    slot = st.empty()
    if slot.button(_("Cancel"), key=f"ch_{name}_cancel"):
        started.pop(name, None)
        cancelled[name] = key
        st.rerun()
    try:
        with tracing.MODULES.shared():
            result = work()
    except (VisualizeError, examples.ExamplesError) as exc:
        result = None
        st.error(text.markdown(str(exc)))
    finally:  # a click interrupts the run here too: the start is kept, and the rerun reads the click
        memory.release_free_memory()
    started.pop(name, None)
    slot.empty()
    if result is not None:  # kept, and the page drawn again: every section that shows it shows it now
        RESULTS.put(key, result)
        st.rerun()
    return result


def _optimisation_progress(label: str) -> tuple[Callable[[visualize.Progress], None], Callable[[], None]]:
    """A progress callback drawing the bar and the images as they form; and what clears both."""
    bar, report = _progress_bar(label)
    live, width = st.empty(), screen.picture_width()

    def progress(p: visualize.Progress) -> None:
        report(p.step / p.total, _("step {step} of {total}, objective {value:.3g}", step=p.step, total=p.total,
                                   value=p.value))
        live.image(render.png(layer_gallery.grid(list(p.images), columns=len(p.images)), width), width="stretch")

    def clear() -> None:
        bar.empty()
        live.empty()
    return progress, clear


@st.cache_resource(max_entries=64, ttl=3600, show_spinner=False)
def _visualize_estimate(_lm: LoadedModel, model_key: tuple, layer: str, channels: tuple[int, ...],
                        settings: Settings) -> float:
    with st.spinner(_("Timing one step…")), tracing.MODULES.shared():
        return visualize.estimate(_lm, layer, list(channels), settings)


# --- feature visualisation ---------------------------------------------------------------------------------

def visualisation(lm: LoadedModel, layer: str, channel: int, settings: Settings, seed: int,
                  name: str = "vis") -> visualize.Visualisation | None:
    """The unit's visualisation: from the gallery folder at once, else started on a button."""
    key = ("vis", models.model_key(lm), layer, channel, settings, seed)
    found = _remembered(key, lambda: visualize.cached(lm, layer, channel, settings, seed))
    if found is not None:
        return found

    def work() -> visualize.Visualisation:
        progress, clear = _optimisation_progress(_("Optimising the image…"))
        try:
            return visualize.visualize(lm, layer, [channel], settings, seed, progress=progress)[0]
        finally:
            clear()
    # timed on channel 0: every channel of a layer costs the same, so a new channel costs no timing
    done = job(name, key, lambda: _visualize_estimate(lm, models.model_key(lm), layer, (0,), settings),
               _("Start the optimisation"), work, lm)
    return done


def show_visualisation(vis: visualize.Visualisation, curve: bool = True) -> None:
    """The image(s), the objective at the start and the end, and its curve."""
    pictures = layer_gallery.grid(list(vis.images), columns=2 if len(vis.images) > 1 else 1)
    st.image(render.png(pictures, screen.picture_width()), width="stretch",
             caption=_("{layer}, channel {channel}: {steps} steps, {size} px, seed {seed}", layer=vis.layer,
                       channel=vis.channel, steps=vis.settings.steps, size=vis.settings.size, seed=vis.seed))
    st.markdown(_("Objective: {start:.3g} at the start → {end:.3g} at the end.", start=vis.start, end=vis.end))
    if curve and vis.curve:
        st.plotly_chart(present.chart(charts.objective_curve(vis.curve)),
                        key=f"ch_curve_{vis.layer}_{vis.channel}")


def feature_visualisation(lm: LoadedModel, layer: str, channel: int, settings: Settings, seed: int) -> None:
    st.subheader(_("Feature visualisation"))
    st.caption(_("The image this channel responds to most, found by gradient ascent on the image, read before "
                 "the ReLU (Olah et al. 2017: a Fourier-space image in decorrelated colour, random jitter, "
                 "scaling and rotation each step)."))
    vis = visualisation(lm, layer, channel, settings, seed)
    if vis is not None:
        show_visualisation(vis)


# --- dataset examples ---------------------------------------------------------------------------------------

@st.cache_resource(max_entries=2, ttl=1800, show_spinner=False)
def _samples() -> collection.Collection:
    return collection.samples()


@st.cache_resource(max_entries=2, ttl=1800, show_spinner=False)
def _uploaded(digest: str, name: str, _data: bytes) -> collection.Collection:
    """The zip's photos, listed once per digest (raises EvaluationError for a hostile archive)."""
    return collection.open_collection(_data, name)


def _upload() -> collection.Collection | None:
    limit = upload_limit_mb()
    upload = st.file_uploader(_("Zip of photos"), type=["zip"], key="ch_zip", max_upload_size=limit,
                              help=_("Any layout: flat, nested or class folders. Up to {mb} MB.", mb=limit))
    if upload is None:
        return None
    data = upload.getvalue()
    digests = st.session_state.setdefault("ch_zip_digests", {})
    if upload.file_id not in digests:
        digests[upload.file_id] = hashlib.sha256(data).hexdigest()
    try:
        return _uploaded(digests[upload.file_id], upload.name, data)
    except EvaluationError as exc:
        st.error(text.markdown(str(exc)))
        return None


def _entry_label(entry: examples.Entry) -> str:
    c = entry.meta.get("collection", {})
    return _("{name}: {photos}, {created}", name=c.get("name", "?"),
             photos=ngettext("{n} photo", "{n} photos", int(c.get("photos", 0))),
             created=str(entry.meta.get("created", ""))[:16].replace("T", " "))


def examples_source(lm: LoadedModel) -> examples.Examples | None:
    """The chosen collection's examples: the teacher's (open at once), or the samples' / a zip's (computed on
    a button unless they were before)."""
    prepared = examples.entries(lm)
    sources = (["prepared"] if prepared else []) + ["samples", "upload"]
    source = dependent.widget(st.radio, _("Photos"), sources, key="ch_ex_source", default=sources[0],
                              depends_on=tuple(sources), horizontal=True, format_func=lambda s: _(SOURCES[s]))
    if source == "prepared":
        labels = {str(e.folder): _entry_label(e) for e in prepared}
        chosen = dependent.widget(st.selectbox, _("Collection"), list(labels), key="ch_ex_entry",
                                  default=next(iter(labels)), depends_on=tuple(labels), format_func=labels.get)
        return _remembered(("examples", chosen), lambda: examples.load(chosen))
    photos = _samples() if source == "samples" else _upload()
    if photos is None:
        return None
    key = ("examples", models.model_key(lm), photos.digest)
    found = _remembered(key, lambda: examples.find(lm, photos.digest))
    if found is not None:
        return found

    def work() -> examples.Examples:
        bar, report = _progress_bar(_("Scoring the photos…"))
        try:
            return examples.compute(lm, photos, batch_size=batch, progress=lambda p: report(p.fraction, _(
                "{done} of {total} photos", done=p.done, total=p.total)))
        finally:
            bar.empty()
    st.caption(ngettext("{n} photo", "{n} photos", len(photos.files)))
    batch = max(1, min(16, len(photos.files)))  # timing a batch of 16 photos for a collection of 4 would cost more
    done = job("examples", key, lambda: examples.estimate(lm, photos, batch_size=batch),
               _("Find the dataset examples"), work, lm)
    return done


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _patch_pngs(_ex: examples.Examples, folder: str, layer: str, channel: int, kind: str) -> list[bytes]:
    return [render.png(patches.patch(_ex, e)) for e in _ex.examples(layer, channel, kind)]


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def _photo_png(_lm: LoadedModel, model_key: tuple, _ex: examples.Examples, folder: str, layer: str, channel: int,
               kind: str, rank: int) -> bytes:
    example = _ex.examples(layer, channel, kind)[rank]
    with tracing.MODULES.shared():
        picture = patches.photo(_ex, example, examples.channel_map(_lm, _ex, layer, channel, example.index))
    return render.png(picture)


def value_text(value: float) -> str:
    """An activation as the patches' captions show it."""
    return f"{value:.4g}"


def _patch_grid(ex: examples.Examples, layer: str, channel: int, kind: str) -> None:
    shown = ex.examples(layer, channel, kind)
    pngs = _patch_pngs(ex, str(ex.folder), layer, channel, kind)
    for row in range(0, len(shown), 3):
        for rank, col in enumerate(st.columns(3), start=row):
            if rank < len(shown):
                e = shown[rank]
                col.image(pngs[rank], width="stretch", caption=f"{value_text(e.value)} · {e.photo}")
                if col.button(_("Whole photo"), key=f"ch_ex_{kind}_{rank}"):
                    st.session_state.ch_ex_chosen = (str(ex.folder), layer, channel, kind, rank)


def dataset_examples(lm: LoadedModel, layer: str, channel: int) -> None:
    st.subheader(_("Dataset examples"))
    st.caption(_("The photos that excite this channel most: each patch is the unit's receptive field around its "
                 "strongest response, with that activation (before the ReLU) and the photo's name."))
    ex = examples_source(lm)
    if ex is None:
        return
    if layer not in ex.layers:
        st.info(_("These dataset examples hold no {layer}.", layer=layer))
        return
    _patch_grid(ex, layer, channel, "top")
    for kind, label in (("bottom", _("The 9 least exciting")), ("random", _("A random sample, for contrast"))):
        if st.toggle(label, key=f"ch_ex_show_{kind}"):
            _patch_grid(ex, layer, channel, kind)
    chosen = st.session_state.get("ch_ex_chosen")
    if chosen is not None and chosen[:3] == (str(ex.folder), layer, channel):
        kind, rank = chosen[3:]
        example = ex.examples(layer, channel, kind)[rank]
        st.image(_photo_png(lm, models.model_key(lm), ex, str(ex.folder), layer, channel, kind, rank),
                 width="stretch", caption=_("{photo}: the receptive field of the strongest unit, and the "
                                            "channel's map over the photo", photo=example.photo))


# --- conv1_1's filter ----------------------------------------------------------------------------------------

@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _filter_png(_lm: LoadedModel, model_key: tuple, channel: int) -> bytes:
    return render.png(filters.filter_pictures(_lm, [channel])[0])


def first_filter(lm: LoadedModel, layer: str, channel: int) -> None:
    """For conv1_1 only: the channel's own RGB kernel, enlarged."""
    if layer != next(iter(conv_layers(lm.model))):
        return
    st.image(_filter_png(lm, models.model_key(lm), channel), width=144,
             caption=_("{layer}, channel {channel}: its 3×3 RGB kernel, enlarged (grey is 0)", layer=layer,
                       channel=channel))


# --- class model visualisation ------------------------------------------------------------------------------

@st.cache_resource(max_entries=16, ttl=3600, show_spinner=False)
def _class_estimate(_lm: LoadedModel, model_key: tuple, method: str, settings: Any) -> float:
    with st.spinner(_("Timing one step…")), tracing.MODULES.shared():
        return class_model.estimate(_lm, method, settings)


def _lazy_expander(label: str, key: str) -> Any:
    """An expander that tells whether it is open (a click reruns the page): a closed one's body is skipped, so
    a page opened on a prepared unit times no estimate and draws nothing it does not show. ``.open``: open."""
    return st.expander(label, key=key, on_change="rerun")


def class_models(lm: LoadedModel, preset: str) -> None:
    box = _lazy_expander(_("Class model visualisation"), "ch_class_box")
    with box:
        if not box.open:
            return
        st.caption(_("The image a class's score (before the softmax) is highest for. Simonyan, Vedaldi & "
                     "Zisserman's method (the VGG authors', 2013) climbs the gradient from the zero image with an "
                     "L2 penalty only; the Fourier one adds the regularisers of feature visualisation. Without "
                     "them the image fills with high-frequency patterns that excite the class but look like "
                     "nothing: the regularisers are what make it readable."))
        names = lm.classes
        index = dependent.widget(st.selectbox, _("Class"), list(range(len(names))), key="ch_class", default=0,
                                 depends_on=(lm.config.name, lm.__dict__.get("digest"), len(names)),
                                 format_func=lambda i: f"{names[i]} ({i})")
        titles = {"simonyan": _("Simonyan et al. (L2 only)"), "fourier": _("Fourier and transforms")}
        for (method, settings), col in zip(zip(class_model.METHODS, CLASS_PRESETS[preset]), st.columns(2)):
            with col:
                st.markdown("**" + titles[method] + "**")
                key = ("class", models.model_key(lm), method, index, settings)
                found = _remembered(key, lambda: class_model.cached(lm, index, method, settings))
                if found is None:
                    def work(method=method, settings=settings):
                        progress, clear = _optimisation_progress(_("Optimising the image…"))
                        try:
                            return class_model.class_model(lm, index, method, settings, progress=progress)
                        finally:
                            clear()
                    found = job(f"class_{method}", key, lambda: _class_estimate(lm, models.model_key(lm), method,
                                                                               settings),
                                _("Start"), work, lm)
                if found is not None:
                    st.image(render.png(found.image), width="stretch", caption=_(
                        "{name}: logit {start:.3g} → {end:.3g}", name=found.name, start=found.start, end=found.end))
                if method == "simonyan" and not lm.trained:
                    st.caption(_("Untrained weights: from the zero image every ReLU is at 0, so no gradient "
                                 "reaches the image and it stays grey."))


# --- the layer gallery --------------------------------------------------------------------------------------

def layer_gallery_section(lm: LoadedModel, layer: str, settings: Settings, seed: int) -> None:
    box = _lazy_expander(_("Layer gallery: the first channels of {layer}", layer=layer), "ch_gallery_box")
    with box:
        if not box.open:
            return
        total = channels_of(lm, layer)
        sizes = [n for n in GALLERY_SIZES if n < total] + [min(total, GALLERY_SIZES[-1])]
        c1, c2 = st.columns(2)
        with c1:
            count = dependent.widget(st.select_slider, _("Channels"), sorted(set(sizes)), key="ch_gallery_n",
                                     default=sizes[0], depends_on=tuple(sizes))
        choices = {"page": (settings, seed)}
        for i, p in enumerate(layer_gallery.prepared(lm, layer)):
            if (p.settings, p.seed) != (settings.resolved(lm), seed):  # the page's own, listed once
                choices[f"prepared{i}"] = (p.settings, p.seed)
        labels = {k: _("{steps} steps, {size} px, seed {seed}", steps=s.steps, size=s.size, seed=sd)
                  for k, (s, sd) in choices.items()}
        labels["page"] = _("This page's settings ({said})", said=labels["page"])
        with c2:
            pick = dependent.widget(st.radio, _("Images"), list(choices), key="ch_gallery_from",
                                    default=list(choices)[-1], depends_on=tuple(labels.items()),
                                    format_func=labels.get)
        used, used_seed = choices[pick]
        channels = list(range(count))
        def key(c: int) -> tuple:
            return "vis", models.model_key(lm), layer, c, used, used_seed
        read = [_remembered(key(c), lambda c=c: visualize.cached(lm, layer, c, used, used_seed)) for c in channels]
        missing = [c for c, v in zip(channels, read) if v is None]
        if missing:
            batches = math.ceil(len(missing) / layer_gallery.BATCH)
            first = tuple(missing[:layer_gallery.BATCH])

            def work() -> list[visualize.Visualisation]:
                progress, clear = _optimisation_progress(_("Optimising the missing channels…"))
                try:
                    done = layer_gallery.compute(lm, layer, missing, used, used_seed, progress=progress)
                finally:
                    clear()
                for v in done:
                    RESULTS.put(key(v.channel), v)
                return done
            job("gallery", ("gallery", models.model_key(lm), layer, tuple(missing), used, used_seed),
                       lambda: batches * _visualize_estimate(lm, models.model_key(lm), layer, first, used),
                       ngettext("Compute the {n} missing channel", "Compute the {n} missing channels", len(missing)),
                       work, lm)
        ready = sum(v is not None for v in read)
        pictures = layer_gallery.grid([v.images[0] if v is not None else None for v in read])
        st.image(render.png(pictures, screen.picture_width()), width="stretch",
                 caption=_("{layer}: {ready} of {n} channels ready", layer=layer, ready=ready, n=count))


# --- the same unit under other weights ----------------------------------------------------------------------

def other_weights(lm: LoadedModel, layer: str, channel: int, settings: Settings, seed: int) -> None:
    with st.expander(_("The same unit under other weights"), key="ch_weights_box"):
        st.caption(_("Untrained channels draw noise; trained ones draw structure: what a channel looks for is "
                     "learned from the data, not built into the architecture."))
        if not st.toggle(_("Compare (loads the other weights)"), key="ch_weights_on"):
            return
        own = lm.weights.split(":")[0]
        shown = {own: lm}
        for kind, other in models.other_weights(lm.config).items():
            if kind != own:
                shown[kind] = other
        for (kind, model), col in zip(shown.items(), st.columns(len(shown))):
            with col:
                st.markdown("**" + _(WEIGHT_LABELS.get(kind, kind)) + "**")
                vis = visualisation(model, layer, channel, settings, seed, name=f"weights_{kind}")
                if vis is not None:
                    show_visualisation(vis, curve=False)
