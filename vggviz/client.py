"""What the browser at the other end is, from its request's headers: a phone or not, and so how wide a picture is
worth sending it. A phone shows a picture at most its screen's width (390–430 CSS px, 2–3 device pixels each);
the desktop's width (``render.DISPLAY_WIDTH``) would cost its Wi-Fi two to three times the bytes for nothing."""

from __future__ import annotations

from .photo import render

# Twice the CSS width of the widest common phone (430 px): sharp on a 2× screen, near enough on a 3× one.
PHONE_WIDTH = 860


def is_phone(user_agent: str | None, mobile_hint: str | None = None) -> bool:
    """Whether the browser is a phone's: its ``Sec-CH-UA-Mobile`` client hint says ``?1`` (Chromium's browsers),
    or its User-Agent holds "Mobi" (MDN's advice for every browser: Android phones' "Mobile", iPhones' "Mobile/";
    Android tablets leave it out), and is not an iPad's (older iPads say "Mobile/" too; newer ones pass for a Mac)."""
    agent = user_agent or ""
    return (mobile_hint or "").strip() == "?1" or ("Mobi" in agent and "iPad" not in agent)


def picture_width(phone: bool) -> int:
    """The widest picture worth sending: the phone's width, else the desktop's."""
    return PHONE_WIDTH if phone else render.DISPLAY_WIDTH
