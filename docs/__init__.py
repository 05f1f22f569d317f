"""The README's depth (docs/*.md) and its pictures, written by ``python -m docs.pictures``."""
