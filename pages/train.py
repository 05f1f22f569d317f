"""Train your own VGG, as the course's train.py does: photos in class folders, a recipe, live curves, and a
checkpoint the other pages open. The training runs in the server's job queue, not in this page."""

import streamlit as st

from ui import train as tr
from vggviz.i18n import _

st.title(_("Train"))
st.caption(_("Train VGG on your own photos as the course's train.py does, watch it learn, then open what it "
             "learned in the other pages. Training runs on the server, one job at a time; this page can be "
             "closed and opened again (the job's address is in the URL)."))
queue = tr.queue()
if queue is None:
    st.stop()
source = tr.data_source()
data = tr.training_data(source) if source is not None else None
recipe = tr.recipe_form(queue.settings.max_epochs) if data is not None else None
if recipe is not None and tr.within_limits(queue, data, recipe):
    tr.start(queue, source, data, recipe, tr.cost(data, recipe, queue))
tr.job_panel(queue)
