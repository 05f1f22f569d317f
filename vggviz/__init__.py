"""vggviz: see inside VGG networks. The engine behind the Streamlit app and ``python -m vggviz``.

Modules that need no torch (configs, layers, lecture, tables, charts, images) import none, so the
architecture pages render without loading it.
"""

__version__ = "0.1.0"
