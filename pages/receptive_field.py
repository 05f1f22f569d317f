"""See a receptive field: the box of input pixels that one unit of a layer sees, drawn on a photo."""

import streamlit as st

import ui
from vggviz import i18n
from vggviz.photo import images
from vggviz.architecture import lecture
from vggviz.architecture.layers import SPATIAL

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)
choices = [r for r in rows if r.type in SPATIAL and r.rf is not None]

st.title("See a receptive field")
left, right = st.columns([1, 2])
with left:
    names = [r.name for r in choices]
    layer = st.selectbox("Layer", names, index=names.index("conv3_1") if "conv3_1" in names else 0, key="rf_layer")
    row = next(r for r in choices if r.name == layer)
    _, out_h, out_w = row.out_shape
    unit_row = st.slider("Unit row", 0, out_h - 1, out_h // 2, key="rf_row")
    unit_col = st.slider("Unit column", 0, out_w - 1, out_w // 2, key="rf_col")
    picked = ui.photo_picker()
    photo = picked[0] if picked else None

full, clipped = lecture.unit_box(row, unit_row, unit_col, size)
with left:
    st.metric("Receptive field r", f"{row.rf}×{row.rf} px")
    st.markdown(
        f"jump {row.jump} px · start {row.start} · unit centre at "
        f"({row.start + unit_row * row.jump}, {row.start + unit_col * row.jump})  \n"
        f"box rows {full.top}…{full.bottom}, columns {full.left}…{full.right}"
        + ("" if full == clipped else f"  \ninside the image: {clipped.size[0]}×{clipped.size[1]} px (clipped at the border)")
    )
    st.caption(lecture.rf_formula(row))
with right:
    if photo is None:
        st.info("Upload a photo, or pick a sample.")
    else:
        resized = photo.resize((size[1], size[0]))
        st.image(images.draw_receptive_field(resized, full, clipped),
                 caption=f"The photo resized to the {size[0]}×{size[1]} input; red: the part of the box inside the "
                         "image, dashed yellow: the whole receptive field (grey: padding).")

if st.toggle(i18n._("Measure the effective receptive field (loads a model)"), key="erf_on"):
    from ui import erf as erf_ui  # torch and a model only when asked: the lecture pages stay light

    erf_ui.erf_section(config, size, row, (unit_row, unit_col), picked)
