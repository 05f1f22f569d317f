"""Streamlit glue for the effective receptive field (the receptive-field page) and one unit's computation
(the feature-maps page): the widgets, the cached engine calls, the figures. The engine is
``vggviz.explain.erf`` / ``unit``; nothing here computes what a test could not check there."""

from __future__ import annotations

import io
from dataclasses import astuple

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_image_coordinates import streamlit_image_coordinates

import ui
from ui import models, present
from vggviz import text
from vggviz.architecture import configs
from vggviz.architecture.layers import Layer
from vggviz.architecture.lecture import Box, unit_box
from vggviz.explain import erf, erf_charts, unit as units
from vggviz.explain.picking import PickError
from vggviz.i18n import N_, _
from vggviz.photo import images, memory, render
from vggviz.photo.inference import LoadedModel, Result

SOURCES = {"photo": N_("the photo above"), "noise": N_("Gaussian noise N(0, 1)")}


# --- cached engine calls --------------------------------------------------------------------------

def _inputs(lm: LoadedModel, inputs_key: tuple, photo: Image.Image | None):
    kind, size = inputs_key[0], inputs_key[1]
    if kind == "photo":  # preprocessed as the sidebar says (by default, as the weights expect)
        return erf.photo_input(photo, inputs_key[3], size)
    samples, seed = inputs_key[2:]
    return erf.noise(samples, size, seed=seed)


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def _one(_lm: LoadedModel, model_key: tuple, inputs_key: tuple, _photo: Image.Image | None, layer: str,
         unit: tuple[int, int]) -> erf.ERF:
    """One unit's ERF per (model, inputs, layer, unit), shared by every session; ``inputs_key`` identifies the
    inputs: ("photo", size, photo key, preprocessing) or ("noise", size, samples, seed)."""
    with st.spinner(_("Back-propagating from {layer} to the input…", layer=layer)):
        try:
            return erf.measure(_lm, _inputs(_lm, inputs_key, _photo), layer, unit)
        finally:
            memory.release_free_memory()


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)
def _every(_lm: LoadedModel, model_key: tuple, inputs_key: tuple, _photo: Image.Image | None) -> list[erf.ERF]:
    """The centre unit's ERF at every conv layer, computed once per (model, inputs)."""
    label = _("Measuring every conv layer…")
    bar = st.progress(0.0, text=label)
    try:
        return erf.every_layer(_lm, _inputs(_lm, inputs_key, _photo),
                               progress=lambda f: bar.progress(f, text=f"{label} {f:.0%}"))
    finally:
        bar.empty()
        memory.release_free_memory()


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _experiment(n: int, channels: int, seeds: int, samples: int) -> erf.StackExperiment:
    return erf.stack_experiment(n, channels, seeds, samples)


@st.cache_resource(max_entries=4, ttl=1800, show_spinner=False)
def _layer_input(_lm: LoadedModel, _result: Result, result_key: tuple, layer: str) -> np.ndarray:
    """A layer's float32 input for one photo: one partial forward, then every unit of the layer reads it."""
    try:
        return units.layer_input(_lm, _result, layer)
    finally:
        memory.release_free_memory()


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _conv_unit(_lm: LoadedModel, _result: Result, result_key: tuple, layer: str, channel: int,
               at: tuple[int, int]) -> units.ConvUnit:
    """One unit's arithmetic, once per (photo, layer, channel, position): a display-only rerun reads it."""
    return units.conv_unit(_lm, _result, layer, channel, at, _layer_input(_lm, _result, result_key, layer))


# --- the receptive-field page ---------------------------------------------------------------------

def erf_section(config: configs.Config, size: tuple[int, int], row: Layer, unit: tuple[int, int],
                picked: tuple[Image.Image, str] | None) -> None:
    """The ERF of the page's unit inside its theoretical box, its cross-section, every layer's ERF against r,
    and the slides' stacked-vs-big-kernel experiment."""
    st.header(_("Effective receptive field (ERF)"))
    st.markdown(_(
        "The box above is every pixel the unit *could* see. How much each pixel actually matters is the "
        "gradient of the unit (all channels summed, after its ReLU) with respect to that pixel: "
        "E[h, w] = Σ_rgb |∂y/∂x|, averaged over the inputs (Luo et al., NeurIPS 2016). It is centre-weighted "
        "and much smaller than the box, and it grows about like √n with depth n while the box grows like n."))
    if row.type != "conv":
        st.info(_("The effective receptive field is measured at conv layers: pick one, such as conv3_3."))
    else:
        _unit_erf(config, size, row, unit, picked)
    _slides_experiment()


def _unit_erf(config: configs.Config, size: tuple[int, int], row: Layer, unit: tuple[int, int],
              picked: tuple[Image.Image, str] | None) -> None:
    lm = models.model_picker(config)
    if lm is None:
        return
    models.model_banner(lm)
    preprocess = models.preprocess_selector(lm)  # in the sidebar, as on the photo pages
    c1, c2, c3 = st.columns(3)
    source = c1.radio(_("Measured over"), list(SOURCES), format_func=lambda s: _(SOURCES[s]), key="erf_source",
                      horizontal=True)
    noise = source == "noise"
    samples = int(c2.number_input(_("Noise inputs N"), 1, 64, 8, key="erf_samples", disabled=not noise))
    seed = int(c3.number_input(_("Noise seed"), 0, 2**31 - 1, 0, key="erf_seed", disabled=not noise))
    if not noise and picked is None:
        st.info(_("Pick a sample photo or upload one above, or measure with Gaussian noise."))
        return
    photo = None if noise else picked[0]
    inputs_key = (("noise", size, samples, seed) if noise else ("photo", size, picked[1], preprocess))
    try:
        found = _one(lm, models.model_key(lm), inputs_key, photo, row.name, unit)
    except PickError as exc:
        st.error(text.markdown(str(exc)))
        return
    left, right = st.columns([3, 2])
    seen = None if photo is None else np.asarray(photo.convert("RGB").resize((size[1], size[0])))
    left.plotly_chart(present.chart(erf_charts.erf_figure(found, seen)), key="erf_map")
    with right:
        _figures(found)
    st.plotly_chart(present.chart(erf_charts.profile_chart(found)), key="erf_profile")
    if st.toggle(_("Chart every conv layer (the centre unit of each)"), key="erf_every",
                 help=_("One gradient per conv layer: several times the cost of one, then cached.")):
        erfs = _every(lm, models.model_key(lm), inputs_key, photo)
        st.plotly_chart(present.chart(erf_charts.layers_chart(erfs)), key="erf_layers")
        st.caption(_("The theoretical field r grows by a fixed step per conv (× the jump); the ERF's sides grow "
                     "more slowly: the deeper the layer, the smaller the share of its box it uses."))


def _figures(found: erf.ERF) -> None:
    sides = found.mass_sides
    if found.area_ratio is None:
        st.warning(_("This unit is inactive for these inputs (its ReLU gives 0 everywhere): no gradient reaches "
                     "the input. Pick another unit, or use noise inputs."))
        return
    a, b, c = st.columns(3)
    a.metric(_("theoretical r (px)"), found.rf)
    b.metric(_("ERF, 50 % (px)"), f"{sides[0.5]:.1f}")
    c.metric(_("ERF, 90 % (px)"), f"{sides[0.9]:.1f}")
    st.dataframe([{_("share of the mass"): f"{f:.0%}", _("side of the square (px)"): round(s, 1),
                   _("share of r"): f"{s / found.rf:.0%}"} for f, s in sides.items()], hide_index=True)
    st.markdown(_("The square holding 90 % of the mass covers **{ratio:.0%}** of the theoretical r × r box.",
                  ratio=found.area_ratio))
    st.caption(_("{samples} input(s) of {h}×{w}; the squares are centred on the receptive field's centre "
                 "({cy}, {cx}); a side may be fractional: each pixel counts as a unit square of even mass.",
                 samples=found.samples, h=found.input_size[0], w=found.input_size[1], cy=found.centre[0],
                 cx=found.centre[1]))


def _slides_experiment() -> None:
    st.subheader(_("The slides' experiment: n stacked 3×3 convs against one (2n+1)×(2n+1) conv"))
    c1, c2, c3, c4 = st.columns(4)
    n = c1.slider(_("3×3 convs in the stack (n)"), 1, 5, 3, key="erf_n")
    channels = c2.select_slider(_("Channels C of every conv"), [4, 8, 16, 32, 64], 16, key="erf_channels")
    seeds = c3.slider(_("Seeds (networks)"), 1, 16, 4, key="erf_seeds")
    samples = c4.slider(_("Noise inputs per seed"), 1, 32, 16, key="erf_inputs")
    with st.spinner(_("Running the experiment…")):
        exp = _experiment(n, channels, seeds, samples)
    cmp = exp.comparison
    st.plotly_chart(present.chart(erf_charts.stack_chart(exp)), key="erf_stack")
    stacked = [s[0.5] for s in exp.stacked_sides]
    single = [s[0.5] for s in exp.single_sides]
    st.markdown(_(
        "Both see {k}×{k} pixels. Parameters (biases ignored): {n}·3·3·C² = **{a}C²** against {k}·{k}·C² = "
        "**{b}C²** ({stacked:,} against {single:,} for C = {c}). Initialised as torchvision initialises VGG and "
        "averaged over {seeds} seed(s) × {samples} noise input(s), the stack's ERF is more concentrated: "
        "50 % of its mass lies in a square of {s1:.2f} px on average, against {s2:.2f} px for the single conv "
        "(smaller on {wins} of {seeds} seeds).",
        k=cmp.rf, n=n, a=9 * n, b=cmp.rf**2, stacked=cmp.stacked_params, single=cmp.single_params, c=channels,
        seeds=seeds, samples=samples, s1=float(np.mean(stacked)), s2=float(np.mean(single)),
        wins=sum(a < b for a, b in zip(stacked, single))))


# --- the feature-maps page ------------------------------------------------------------------------

def _unit_keys(layer: str) -> tuple[str, str]:
    return f"unit_row_{layer}", f"unit_col_{layer}"


def _picked_unit(layer: str, shape: tuple[int, int]) -> tuple[int, int]:
    """The unit chosen for ``layer`` so far (default: the centre), kept in the number inputs' state."""
    rk, ck = _unit_keys(layer)
    h, w = shape
    r = min(max(int(st.session_state.get(rk, h // 2)), 0), h - 1)
    c = min(max(int(st.session_state.get(ck, w // 2)), 0), w - 1)
    return r, c


class _EncodedPNG:
    """PNG bytes encoded once, handed to ``streamlit_image_coordinates`` as the image it expects (it calls
    ``save(buffer, format=…, compress_level=…)``), so that a rerun does not decode, draw and encode again."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def save(self, fp, *args, **kwargs) -> None:
        fp.write(self.data)


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _outlined_png(picture: bytes, shape: tuple[int, int], unit: tuple[int, int]) -> bytes:
    """The enlarged channel with the unit outlined, once per (picture, unit): a display-only rerun of the
    feature-maps page had spent a third of its server time decoding, drawing and encoding it."""
    outlined = images.outline_unit(Image.open(io.BytesIO(picture)), shape, unit)
    buf = io.BytesIO()
    outlined.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def clickable_channel(where, picture: bytes, caption: str, layer: str, shape: tuple[int, int]) -> None:
    """The enlarged channel (PNG bytes) with the chosen unit outlined; a click picks the unit under it."""
    h, w = shape
    key = f"unit_click_{layer}"
    click = st.session_state.get(key)  # the last click, from the run it triggered: applied before drawing
    if click and click.get("unix_time") != st.session_state.get("unit_click_seen"):
        st.session_state.unit_click_seen = click.get("unix_time")
        rk, ck = _unit_keys(layer)
        st.session_state[rk] = min(int(click["y"] / click["height"] * h), h - 1)
        st.session_state[ck] = min(int(click["x"] / click["width"] * w), w - 1)
    outlined = _EncodedPNG(_outlined_png(picture, shape, _picked_unit(layer, shape)))
    with where:
        streamlit_image_coordinates(outlined, key=key, width="stretch", cursor="crosshair")
        st.caption(caption)


def unit_panel(lm: LoadedModel, result: Result, result_key: tuple, layer: str, channel: int,
               shape: tuple[int, int]) -> None:
    """One unit of ``layer``'s ``channel``: its receptive field on the photo and the arithmetic of its value."""
    st.subheader(_("One unit's computation"))
    st.caption(_("Click a unit in the enlarged channel, or set its row and column."))
    h, w = shape
    rk, ck = _unit_keys(layer)
    r0, c0 = _picked_unit(layer, shape)
    st.session_state[rk], st.session_state[ck] = r0, c0
    a, b, _c = st.columns([1, 1, 2])
    r = int(a.number_input(_("Row on the map"), 0, h - 1, key=rk))
    c = int(b.number_input(_("Column on the map"), 0, w - 1, key=ck))
    try:
        u = _conv_unit(lm, result, result_key, layer, channel, (r, c))
    except PickError as exc:
        st.error(text.markdown(str(exc)))
        return
    left, right = st.columns([1, 2])
    with left:
        _receptive_field(lm, result, result_key, u)
    with right:
        _steps(u)
    if u.first:
        _first_layer(u)
    else:
        _contributions(lm, result, result_key, u)
    _pool_after(lm, result, u)


def _rows(lm: LoadedModel, result: Result) -> tuple[Layer, ...]:
    return ui.cached_layer_table(lm.config.name, tuple(result.input.shape[1:]))


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _box_png(_seen: np.ndarray, result_key: tuple, full: tuple, clipped: tuple) -> bytes:
    """The photo as the model sees it with a unit's receptive field drawn, encoded once per (photo, box)."""
    box, inside = Box(*full), Box(*clipped)
    return render.png(images.draw_receptive_field(Image.fromarray(_seen), box, inside))


def _receptive_field(lm: LoadedModel, result: Result, result_key: tuple, u: units.ConvUnit) -> None:
    seen = models.seen(result, result_key)
    row = next(r for r in _rows(lm, result) if r.name == u.layer)
    box, clipped = unit_box(row, *u.at, seen.shape[:2])
    st.image(_box_png(seen, result_key, astuple(box), astuple(clipped)), output_format="PNG", width="stretch",
             caption=_("{layer} unit ({row}, {col}) sees rows {top}…{bottom}, columns {left}…{right} of the "
                       "input", layer=u.layer, row=u.at[0], col=u.at[1], top=box.top, bottom=box.bottom,
                       left=box.left, right=box.right))


def _steps(u: units.ConvUnit) -> None:
    a, b, c = st.columns(3)
    a.metric(_("before ReLU (pre-activation)"), f"{u.pre:.4g}")
    if u.batch_norm is not None:
        b.metric(_("after batch norm"), f"{u.batch_norm.value:.4g}")
    c.metric(_("after ReLU (on the map)"), f"{u.post:.4g}")
    st.markdown(_("bias **{bias:.4g}** + Σ of {n} input-channel contributions **{total:.4g}** = pre-activation "
                  "**{pre:.4g}**", bias=u.bias, n=len(u.contributions), total=float(u.contributions.sum()),
                  pre=u.pre))
    x = u.pre
    if u.batch_norm is not None:
        bn = u.batch_norm
        st.latex(rf"\frac{{{u.pre:.4g} - ({bn.mean:.4g})}}{{\sqrt{{{bn.var:.4g} + {bn.eps:g}}}}} \times {bn.weight:.4g}"
                 rf" + ({bn.bias:.4g}) = {bn.value:.4g}")
        st.caption(_("Batch norm with this channel's running mean and variance, weight and bias."))
        x = bn.value
    st.latex(rf"\mathrm{{ReLU}}({x:.4g}) = \max({x:.4g}, 0) = {u.post:.4g}")


def _matrix(a: np.ndarray) -> str:
    rows = [" & ".join(f"{v:.3f}" for v in line) for line in a]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def _first_layer(u: units.ConvUnit) -> None:
    st.markdown(_("**conv1_1 reads the photo itself**: for each colour, the 3×3 patch of preprocessed pixels "
                  "(zeros where the window hangs over the padding) times the kernel, element by element, summed."))
    for i, colour in enumerate(units.RGB):
        st.markdown(f"**{_(colour)}**")
        st.latex(rf"{_matrix(u.patch[i])} \odot {_matrix(u.kernel[i])} = {_matrix(u.products(i))}"
                 rf"\;\xrightarrow{{\Sigma}}\; {u.contributions[i]:.4f}")
    terms = " + ".join(f"({v:.4f})" for v in u.contributions)
    st.latex(rf"{terms} + {u.bias:.4f} = {u.pre:.4f}")


def _contributions(lm: LoadedModel, result: Result, result_key: tuple, u: units.ConvUnit) -> None:
    fig = erf_charts.contributions_chart(u)
    channels = list(fig.data[0].customdata)
    choices = [int(i) for i in u.order()]
    key = f"unit_in_{u.layer}_{u.channel}_{u.at[0]}_{u.at[1]}"
    event = st.plotly_chart(present.chart(fig), key=f"unit_bars_{u.layer}", on_select="rerun", selection_mode="points")
    picked = [channels[i] for i in (event.selection.point_indices if event else [])]
    if picked and picked[0] >= 0 and st.session_state.get("unit_bar_seen") != (key, picked[0]):
        st.session_state.unit_bar_seen = (key, picked[0])
        st.session_state[key] = picked[0]
    in_channel = st.selectbox(
        _("Input channel (largest contributions first; or click a bar)"), choices, key=key,
        format_func=lambda i: _("channel {c}: {value:+.4g}", c=i, value=float(u.contributions[i])))
    below = _layer_input(lm, result, result_key, u.layer)[in_channel]
    a, b = st.columns([3, 2])
    a.plotly_chart(present.chart(erf_charts.window_figure(below, u.window, _(
        "Input channel {c} of {layer}, the {k}×{k} window marked", c=in_channel, layer=u.layer,
        k=u.kernel.shape[-1]))), key="unit_window")
    with b:
        st.markdown(_("**patch ⊙ kernel slice = products**, summed: the contribution"))
        st.latex(rf"{_matrix(u.patch[in_channel])} \odot {_matrix(u.kernel[in_channel])}")
        st.latex(rf"= {_matrix(u.products(in_channel))} \;\xrightarrow{{\Sigma}}\; {u.contributions[in_channel]:.4g}")


def _pool_after(lm: LoadedModel, result: Result, u: units.ConvUnit) -> None:
    fed = units.pool_fed(_rows(lm, result), u.layer, u.at)
    if fed is None:
        return
    pool = units.compute(lm, result, fed[0], u.channel, fed[1])
    st.markdown(_("**Max pooling**: {pool} unit ({row}, {col}) keeps the largest of its {k}×{k} window of the "
                  "rectified {layer} map (rows {top}…{bottom}, columns {left}…{right}):", pool=pool.layer,
                  row=pool.at[0], col=pool.at[1], k=pool.values.shape[0], layer=u.layer, top=pool.window.top,
                  bottom=pool.window.bottom, left=pool.window.left, right=pool.window.right))
    st.latex(rf"\max{_matrix(pool.values)} = {pool.value:.4g}")
