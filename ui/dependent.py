"""Widgets whose default depends on the photo, the model or the configuration.

A keyed Streamlit widget ignores ``index=``, ``value=`` and ``default=`` after its first run, so a default
computed from what is on screen (the predicted class, the configuration's conv layers, a layer's size)
would stick to the first photo or configuration, or leave a value the new options do not hold. Here the
widget's value lives in session state instead: it is set to the current default when what it depends on
has changed, or while the user has left it at the previous default; otherwise the user's choice stays,
also across page switches (Streamlit drops a widget's state on a run that does not draw it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

_MEMO = "_dependent_widgets"  # key -> (depends_on, default, value) as last drawn


def widget(factory: Callable[..., Any], label: str, *args: Any, key: str, default: Any, depends_on: Hashable,
           **kwargs: Any) -> Any:
    """``factory(label, *args, key=key, **kwargs)`` (``st.selectbox``, ``st.slider``…, or a container's),
    starting at ``default`` and following it when ``depends_on`` changes unless the user chose otherwise
    for the same ``depends_on``. Pass the options, or the range, in ``depends_on`` so that a value they no
    longer hold is never kept. Do not pass ``index``/``value``/``default`` to the factory."""
    memos: dict[str, tuple] = st.session_state.setdefault(_MEMO, {})
    memo = memos.get(key)
    if memo is None or memo[0] != depends_on:
        value = default
    else:
        value = st.session_state.get(key, memo[2])
        if value == memo[1]:  # left at the old default: follow the new one
            value = default
    st.session_state[key] = value
    value = factory(label, *args, key=key, **kwargs)
    memos[key] = (depends_on, default, value)
    return value
