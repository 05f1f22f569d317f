"""Widgets whose default depends on the photo, the model or the configuration.

A keyed Streamlit widget ignores ``index=``, ``value=`` and ``default=`` after its first run, so a default
computed from what is on screen (the predicted class, the configuration's conv layers, a layer's size)
would stick to the first photo or configuration, or keep a value the new options do not hold. Here the
widget's value lives in session state instead: it is set to the current default when what the default
depends on has changed, while the user has left it at the previous default, or when the options no longer
hold it; otherwise the user's choice stays, also across page switches (Streamlit drops a widget's state
on a run that does not draw it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from numbers import Real
from typing import Any

import streamlit as st

_MEMO = "_dependent_widgets"  # key -> (depends_on, default, value) as last drawn


def _allowed(value: Any, args: tuple) -> bool:
    """Whether ``value`` is still a value of the widget: within (min, max) for a slider or number input,
    one of the options (all of them, for a multiselect) otherwise."""
    if len(args) >= 2 and isinstance(args[0], Real) and isinstance(args[1], Real):
        return isinstance(value, Real) and args[0] <= value <= args[1]
    options = args[0] if args else ()
    return all(v in options for v in value) if isinstance(value, list) else value in options


def widget(factory: Callable[..., Any], label: str, *args: Any, key: str, default: Any, depends_on: Hashable,
           **kwargs: Any) -> Any:
    """``factory(label, *args, key=key, **kwargs)``: ``st.selectbox``/``st.radio``/``st.multiselect`` with
    their options as ``args``, or ``st.slider``/``st.number_input`` with (min, max). It starts at ``default``
    and follows it when ``depends_on`` changes, unless the user chose another value for the same
    ``depends_on``. Do not pass ``index``/``value``/``default`` to the factory."""
    memos: dict[str, tuple] = st.session_state.setdefault(_MEMO, {})
    memo = memos.get(key)
    value = default
    if memo is not None and memo[0] == depends_on:
        kept = st.session_state.get(key, memo[2])
        if kept != memo[1] and _allowed(kept, args):  # the user's own choice, still possible
            value = kept
    st.session_state[key] = value
    value = factory(label, *args, key=key, **kwargs)
    memos[key] = (depends_on, default, value)
    return value
