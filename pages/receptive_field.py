"""See a receptive field: the box of input pixels that one unit of a layer sees, drawn on a photo."""

import streamlit as st

import ui
from ui import dependent
from vggviz.architecture import lecture
from vggviz.architecture.layers import SPATIAL
from vggviz.i18n import _
from vggviz.photo import images

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)
choices = [r for r in rows if r.type in SPATIAL and r.rf is not None]

st.title(_("See a receptive field"))
left, right = st.columns([1, 2])
with left:
    names = [r.name for r in choices]
    layer = dependent.widget(st.selectbox, _("Layer"), names, key="rf_layer",
                             default="conv3_1" if "conv3_1" in names else names[0], depends_on=config.name)
    row = next(r for r in choices if r.name == layer)
    _channels, out_h, out_w = row.out_shape
    # A new layer starts at its centre unit, and so does a new input size unless the user moved the unit.
    unit_row = dependent.widget(st.slider, _("Unit row"), 0, out_h - 1, key="rf_row", default=out_h // 2,
                                depends_on=layer)
    unit_col = dependent.widget(st.slider, _("Unit column"), 0, out_w - 1, key="rf_col", default=out_w // 2,
                                depends_on=layer)
    picked = ui.photo_picker()
    photo = picked[0] if picked else None

full, clipped = lecture.unit_box(row, unit_row, unit_col, size)
with left:
    st.metric(_("Receptive field r"), f"{row.rf}×{row.rf} px")
    where = _("effective stride (jump) {jump} px · start {start} · unit centre at ({y}, {x})  \n"
              "box rows {top}…{bottom}, columns {left}…{right}",
              jump=row.jump, start=row.start, y=row.start + unit_row * row.jump, x=row.start + unit_col * row.jump,
              top=full.top, bottom=full.bottom, left=full.left, right=full.right)
    if full != clipped:
        where += "  \n" + _("inside the image: {h}×{w} px (clipped at the border, where the padding is)",
                            h=clipped.size[0], w=clipped.size[1])
    st.markdown(where)
    st.caption(lecture.rf_formula(row))
with right:
    if photo is None:
        st.info(_("Upload a photo, or pick a sample."))
    else:
        resized = photo.resize((size[1], size[0]))
        st.image(images.draw_receptive_field(resized, full, clipped),
                 caption=_("The photo resized to the {h}×{w} input; red: the part of the box inside the image, "
                           "dashed yellow: the whole receptive field (grey: padding).", h=size[0], w=size[1]))
