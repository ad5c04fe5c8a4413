"""Turn a matplotlib figure into an inline ``<svg>`` element that is safe to embed with ``|safe``.

Everything in the SVG comes from numbers and from text that matplotlib XML-escapes; on top of that the
result is parsed and checked (no script/foreignObject element, no ``on*`` attribute, no reference that is
not a same-document ``#fragment``) before it is handed to the template. Output is deterministic: a fixed,
per-chart ``svg.hashsalt`` (so the ids of two charts on one page never clash) and no date metadata.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import matplotlib
from markupsafe import Markup, escape
from matplotlib.figure import Figure

_FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "object", "embed", "a", "animate", "set",
                   "animatemotion", "animatetransform", "image", "feimage", "handler", "listener"}
_REF = re.compile(r"""(?:href="#|url\(#)([A-Za-z0-9_.:-]+)""")
_URL = re.compile(r"""url\(\s*['"]?(.)""")
_ID = re.compile(r'\sid="([^"]*)"')
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
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"harness-report/{key}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, count=1, flags=re.S)
    # Only the hashed ids of clip paths and markers are referenced; the rest (figure_1, axes_1, ...) would be
    # duplicated between the charts of one page.
    refs = set(_REF.findall(text))
    text = _ID.sub(lambda m: m.group(0) if m.group(1) in refs else "", text)
    check_svg(text)
    head, rest = text.split(">", 1)
    head = _XMLNS.sub("", _ROOT_SIZE.sub("", head))
    head = head.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(label)}"', 1)
    return Markup(head + ">" + rest.strip())
