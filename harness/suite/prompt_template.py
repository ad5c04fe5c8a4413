"""Prompt templates (``prompt.template`` in suite.yaml): jinja2 in a bounded sandbox.

A suite is often someone else's file, so its template is untrusted code. It is compiled in a
:class:`~jinja2.sandbox.SandboxedEnvironment` with no loader (``include``, ``extends`` and ``import`` are refused
when the template is read) and with bounds on what one rendering may cost:

- every ``range()`` holds at most :data:`MAX_ITEMS` numbers, and a rendering takes at most :data:`MAX_STEPS`
  steps (loop iterations and calls together), so nested loops and recursive macros end;
- a number given to a call or a filter is at most :data:`MAX_NUMBER` in size (``center(10**9)``), ``**`` has a
  small exponent, and a repeated or joined string or list (``"x" * n``, ``a ~ b``, ``a + b``) holds at most
  :data:`MAX_OUTPUT` characters or items;
- a rendered prompt is at most :data:`MAX_OUTPUT` characters.

Any mistake (syntax, an undefined variable, a refused operation, a bound exceeded, any exception the template
raises) is a :class:`TemplateProblem` with a one-line reason; callers turn it into an input error naming the suite
file, the template's line and ``prompt.template``.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_OUTPUT = 1_000_000  # characters of one rendered prompt (and of any string or list a template builds)
MAX_ITEMS = 100_000  # numbers in one range()
MAX_STEPS = 200_000  # loop iterations and calls in one rendering
MAX_NUMBER = 1_000_000  # the size of a number passed to a call or a filter
MAX_EXPONENT = 64

_WIDE_FORMAT = re.compile(r"\d{7,}|\*")  # "%100000000s": a width over MAX_NUMBER, or one given as an argument


class TemplateProblem(Exception):
    """A prompt template that cannot be read or rendered. ``line``: its line in the template, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Budget(threading.local):
    steps = 0


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise SecurityError(f"number {value} is too large for a prompt template (at most {MAX_NUMBER:,})")
    if isinstance(value, float) and abs(value) > MAX_NUMBER:
        raise SecurityError(f"number {value:g} is too large for a prompt template (at most {MAX_NUMBER:,})")


def _check_size(value: Any) -> Any:
    if _size(value) > MAX_OUTPUT:
        raise SecurityError(f"the template builds a value over {MAX_OUTPUT:,} characters or items")
    return value


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox prompt templates run in (see the module's docstring for its bounds)."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False, loader=None)
        self.budget = _Budget()
        self.globals = {"range": self._range, "dict": dict, "lipsum": None, "cycler": None, "joiner": None,
                        "namespace": None}
        self.globals = {k: v for k, v in self.globals.items() if v is not None}
        self.filters = {name: self._bounded_filter(f) for name, f in self.filters.items()}

    # -- steps ---------------------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        self.budget.steps += n
        if self.budget.steps > MAX_STEPS:
            raise SecurityError(f"the template takes over {MAX_STEPS:,} steps (loop iterations and calls) "
                                "for one prompt")

    def bounded_iter(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            self.step()
            yield item

    def bounded_concat(self, *parts: Any) -> str:
        if sum(_size(p) if isinstance(p, str) else 0 for p in parts) > MAX_OUTPUT:
            raise SecurityError(f"the template builds a string over {MAX_OUTPUT:,} characters")
        return _check_size("".join(map(str, parts)))

    def _range(self, *args: int) -> range:
        for a in args:
            _check_number(a)
        r = range(*args)
        if len(r) > MAX_ITEMS:
            raise SecurityError(f"range() of {len(r):,} numbers is too long for a prompt template "
                                f"(at most {MAX_ITEMS:,})")
        return r

    # -- calls, filters, operators -------------------------------------------------------------------------
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.step()
        for value in (*args, *kwargs.values()):
            _check_number(value)
        if getattr(__obj, "__name__", None) in ("format", "format_map") and isinstance(
                getattr(__obj, "__self__", None), str) and _WIDE_FORMAT.search(__obj.__self__):
            raise SecurityError("a format width over the template limit")
        if getattr(__obj, "__name__", None) == "replace" and isinstance(getattr(__obj, "__self__", None), str) \
                and args and args[0] == "":
            raise SecurityError("replace() of an empty string is refused in a prompt template")
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def _bounded_filter(self, f: Callable[..., Any]) -> Callable[..., Any]:
        skip = 2 if hasattr(f, "jinja_pass_arg") else 1  # the value (after the context or environment)

        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.step()
            for value in (*args[skip:], *kwargs.values()):
                _check_number(value)
            return _check_size(f(*args, **kwargs))
        for attr in ("jinja_pass_arg",):  # pass_context / pass_environment markers
            if hasattr(f, attr):
                setattr(bounded, attr, getattr(f, attr))
        return bounded

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "*":
            for seq, n in ((left, right), (right, left)):
                if _size(seq) and isinstance(n, int) and _size(seq) * n > MAX_OUTPUT:
                    raise SecurityError(f"the template builds a value over {MAX_OUTPUT:,} characters or items")
        elif operator_ == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT and \
                    isinstance(left, (int, float)) and abs(left) > 1:
                raise SecurityError(f"exponent {right} is too large for a prompt template")
        elif operator_ == "+":
            if _size(left) + _size(right) > MAX_OUTPUT:
                raise SecurityError(f"the template builds a value over {MAX_OUTPUT:,} characters or items")
        elif operator_ == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("a format width over the template limit")
        return _check_size(_BINOPS[operator_](left, right))


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {"*": operator.mul, "**": operator.pow, "+": operator.add,
                                                 "%": operator.mod, "//": operator.floordiv, "-": operator.sub,
                                                 "/": operator.truediv}


def _bounded_tree(env: BoundedSandbox, tree: nodes.Template) -> nodes.Template:
    """Refuse loader statements; route every loop and every ``~`` through the environment's bounds."""
    for kind, what in ((nodes.Include, "include"), (nodes.Extends, "extends"), (nodes.Import, "import"),
                       (nodes.FromImport, "import")):
        found = tree.find(kind)
        if found is not None:
            raise TemplateProblem(f"{{% {what} %}} is not available in a prompt template (it cannot read other "
                                  "files)", found.lineno)
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [loop.iter], [], None, None,
                               lineno=loop.lineno)
    for concat in list(tree.find_all(nodes.Concat)):
        call = nodes.Call(nodes.EnvironmentAttribute("bounded_concat"), list(concat.nodes), [], None, None,
                          lineno=concat.lineno)
        _replace(tree, concat, call)
    return tree


def _replace(tree: nodes.Node, old: nodes.Node, new: nodes.Node) -> None:
    for node in (tree, *tree.find_all(nodes.Node)):
        for field in node.fields:
            value = getattr(node, field, None)
            if value is old:
                setattr(node, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                setattr(node, field, [new if v is old else v for v in value])
                return


class PromptTemplate:
    """A compiled prompt template. :meth:`render` raises :class:`TemplateProblem`, never anything else."""

    def __init__(self, source: str) -> None:
        self.env = BoundedSandbox()
        try:
            tree = self.env.parse(source)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(f"invalid template: {exc.message}", exc.lineno) from None
        except Exception as exc:  # noqa: BLE001 — any failure of reading untrusted text is its mistake
            raise TemplateProblem(f"invalid template: {_reason(exc)}") from None
        try:
            self.template: Template = self.env.from_string(_bounded_tree(self.env, tree))
        except TemplateProblem:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TemplateProblem(f"invalid template: {_reason(exc)}", getattr(exc, "lineno", None)) from None

    def render(self, **fields: Any) -> str:
        self.env.budget.steps = 0
        out: list[str] = []
        size = 0
        try:
            for chunk in self.template.generate(**fields):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise SecurityError(f"the rendered prompt is over {MAX_OUTPUT:,} characters")
                out.append(chunk)
        except Exception as exc:  # noqa: BLE001 — a template is untrusted code: every failure is its mistake
            raise TemplateProblem(_reason(exc), _template_line(exc)) from None
        return "".join(out)


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).replace("\n", " ").strip()
    if isinstance(exc, RecursionError):
        text = "it recurses too deeply"
    elif isinstance(exc, MemoryError):
        text = "it needs too much memory"
    kind = "" if isinstance(exc, TemplateError) else f"{type(exc).__name__}: "
    return f"{kind}{text[:300]}"


def _template_line(exc: BaseException) -> int | None:
    """The template line a render error happened on (jinja2 names template frames ``<template>``)."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

