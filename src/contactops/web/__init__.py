"""Pages served by the service: the live case board and its login page.

Everything the pages need (HTML, CSS, JavaScript) is in this package and served
by the service itself; nothing is loaded from elsewhere.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["PAGES", "STATIC", "page"]

STATIC = Path(__file__).resolve().parent / "static"
PAGES = Path(__file__).resolve().parent / "pages"


@cache
def page(name: str) -> str:
    """The HTML of page ``name`` (``board.html``, ``login.html``)."""
    return (PAGES / name).read_text(encoding="utf-8")
