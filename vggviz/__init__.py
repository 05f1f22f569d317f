"""vggviz: see inside VGG networks. The engine behind the Streamlit app and ``python -m vggviz``.

Grouped by the concerns the pages follow, imports running one way only:
``architecture`` (Table 1 as data, the layer table, the lecture's arithmetic; torch-free except
``model``) <- ``photo`` (a photo through the model) <- ``explain`` (attributions). Modules that need
no torch import none, so the architecture pages render without loading it.
"""

__version__ = "0.1.0"
