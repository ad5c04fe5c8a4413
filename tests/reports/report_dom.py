"""A tiny DOM built with html.parser (no extra dependency) for checking rendered reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, pred: Callable[[Node], bool] | None = None,
                 **attrs: str) -> list[Node]:
        out = []
        for n in self.iter():
            if tag is not None and n.tag != tag:
                continue
            if any(n.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            if pred is not None and not pred(n):
                continue
            out.append(n)
        return out

    def find(self, tag: str | None = None, pred: Callable[[Node], bool] | None = None,
             **attrs: str) -> Node | None:
        found = self.find_all(tag, pred, **attrs)
        return found[0] if found else None

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def has_class(self, name: str) -> bool:
        return name in self.classes()

    def text(self) -> str:
        parts: list[str] = []
        for c in self.children:
            parts.append(c if isinstance(c, str) else c.text())
        return "".join(parts)

    def clean_text(self) -> str:
        return " ".join(self.text().split())

    def child_tags(self, tag: str) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.cur = self.root
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.cur.children.append(Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        n: Node | None = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is None or n.parent is None:
            self.errors.append(f"stray </{tag}>")
            return
        if n is not self.cur:
            self.errors.append(f"</{tag}> closes unclosed <{self.cur.tag}>")
        self.cur = n.parent

    def handle_data(self, data: str) -> None:
        self.cur.children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    b.close()
    assert not b.errors, b.errors[:5]
    assert b.cur is b.root, f"unclosed <{b.cur.tag}>"
    return b.root


def assert_only_our_script(doc: Node) -> None:
    """The page's only script is harness's own (templates/report.js, byte for byte, inline, no src), and the
    content security policy allows exactly that script by its hash (no 'unsafe-inline', no other source)."""
    import base64
    import hashlib
    import re

    from harness_reports.render import script

    js, source = script()
    scripts = doc.find_all("script")
    assert len(scripts) == 1, [s.attrs for s in scripts]
    assert not scripts[0].attrs and scripts[0].text() == str(js)
    digest = base64.b64encode(hashlib.sha256(str(js).encode()).digest()).decode()
    assert source == f"'sha256-{digest}'"
    csp = doc.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    assert directives["default-src"] == ["'none'"] and directives["script-src"] == [source]
    assert directives["connect-src"] == ["'none'"] and "unsafe-inline" not in " ".join(directives["script-src"])
    assert not re.search(r"\bhttps?:", csp)


def without_our_script(html: str) -> str:
    """The page's HTML with harness's own inline script removed (to search the rest for injected markup)."""
    from harness_reports.render import script

    return html.replace(f"<script>{script()[0]}</script>", "")
