"""Turn a chart (:class:`harness_reports.plot.Figure`) into an inline ``<svg>`` element that is safe to embed
with ``|safe``.

Everything in the SVG comes from numbers and from text that is XML-escaped; on top of that the
result is parsed and checked (no script/foreignObject element, no ``on*`` attribute, no reference that is
not a same-document ``#fragment``) before it is handed to the template. Output is deterministic, and the ids of a
chart's elements start with its key, so two charts on one page never share one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from .plot import Figure

_FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "object", "embed", "a", "animate", "set",
                   "animatemotion", "animatetransform", "image", "feimage", "handler", "listener"}
_URL = re.compile(r"""url\(\s*['"]?(.)""")
_ROOT_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')
_XMLNS = re.compile(r'\sxmlns(?::\w+)?="[^"]*"')


class UnsafeSVG(ValueError):
    """The generated SVG failed the safety check (should never happen; the page then says the chart is missing)."""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def check_svg(text: str) -> None:
    """Raise :class:`UnsafeSVG` unless every element and attribute of ``text`` is inert."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise UnsafeSVG(f"not well-formed: {exc}") from None
    for el in root.iter():
        tag = _local(el.tag) if isinstance(el.tag, str) else ""
        if tag in _FORBIDDEN_TAGS:
            raise UnsafeSVG(f"element <{tag}> not allowed")
        if tag == "style":
            css = (el.text or "").lower()
            if "@import" in css or any(ch != "#" for ch in _URL.findall(css)):
                raise UnsafeSVG("external reference in <style>")
        for key, value in el.attrib.items():
            name = _local(key)
            low = value.strip().lower()
            if name.startswith("on"):
                raise UnsafeSVG(f"attribute {name} not allowed")
            if name in {"href", "src"} and not low.startswith("#"):
                raise UnsafeSVG(f"external reference {name}={value!r}")
            if any(ch != "#" for ch in _URL.findall(low)):
                raise UnsafeSVG(f"non-local url() in {name}")
            if "javascript:" in low or "expression(" in low:
                raise UnsafeSVG(f"script in attribute {name}")


def figure_svg(fig: Figure, key: str, label: str) -> Markup:
    """Serialise ``fig`` as a checked, responsive inline ``<svg>``; ``key`` seeds the ids, ``label`` is alt text."""
    text = fig.svg(f"harness-{key}")
    check_svg(text)
    head, rest = text.split(">", 1)
    head = _XMLNS.sub("", _ROOT_SIZE.sub("", head))
    head = head.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(label)}"', 1)
    return Markup(head + ">" + rest.strip())
