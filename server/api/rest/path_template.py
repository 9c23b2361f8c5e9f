"""google.api.http path templates, parsed once and compiled into one regex each.

Templates are matched against the raw, still percent-encoded path, so an
encoded '/' inside a resource ID can never move a segment boundary; captured
values are decoded afterwards. A `*` never matches ':' (resource IDs never
contain it), which makes custom verbs such as `…/virtualMachines/vm1:start`
and collection verbs such as `…/virtualMachines:watch` unambiguous without
any backtracking rules of their own. `**` matches one or more segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"[^/{}*:=]+")
_SEGMENT_PATTERNS = {"*": r"[^/:]+", "**": r"[^/:]+(?:/[^/:]+)*"}


@dataclass(frozen=True)
class Variable:
    """`{field_path=segments}`: the request field a part of the path is copied into."""

    field_path: tuple[str, ...]
    segments: tuple[str, ...]


Segment = str | Variable


@dataclass(frozen=True)
class PathTemplate:
    template: str
    segments: tuple[Segment, ...]
    verb: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        if not template.startswith("/"):
            raise ValueError(f"path template {template!r} must start with '/'")
        path, verb = _split_verb(template[1:], template)
        segments = tuple(_parse_segment(text, template) for text in _split_top_level(path, template))
        variables = [s for s in segments if isinstance(s, Variable)]
        if len({v.field_path for v in variables}) != len(variables):
            raise ValueError(f"path template {template!r} binds a field twice")
        pattern = "/" + "/".join(_segment_regex(s) for s in segments)
        if verb:
            pattern += re.escape(":" + verb)
        return cls(template, segments, verb, re.compile(pattern))

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(s for s in self.segments if isinstance(s, Variable))

    def match(self, raw_path: str) -> tuple[str, ...] | None:
        """The decoded variable values in template order, or None when the path does not match."""
        found = self.regex.fullmatch(raw_path)
        if found is None:
            return None
        return tuple(unquote(value) if "%" in value else value for value in found.groups())


def _split_verb(path: str, template: str) -> tuple[str, str]:
    depth = 0
    verb_at = -1
    for index, char in enumerate(path):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == ":" and depth == 0:
            verb_at = index
    if depth != 0:
        raise ValueError(f"path template {template!r} has unbalanced braces")
    if verb_at < 0:
        return path, ""
    verb = path[verb_at + 1 :]
    if not _LITERAL.fullmatch(verb):
        raise ValueError(f"path template {template!r} has an invalid verb {verb!r}")
    return path[:verb_at], verb


def _split_top_level(path: str, template: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(path):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "/" and depth == 0:
            parts.append(path[start:index])
            start = index + 1
    parts.append(path[start:])
    if any(not part for part in parts):
        raise ValueError(f"path template {template!r} has an empty segment")
    return parts


def _parse_segment(text: str, template: str) -> Segment:
    if text.startswith("{"):
        if not text.endswith("}"):
            raise ValueError(f"path template {template!r}: a variable must be a whole segment")
        field, _, inner = text[1:-1].partition("=")
        field_path = tuple(field.split("."))
        if not all(_IDENT.fullmatch(part) for part in field_path):
            raise ValueError(f"path template {template!r} has an invalid field path {field!r}")
        segments = tuple(inner.split("/")) if inner else ("*",)
        for segment in segments:
            _check_plain_segment(segment, template)
        return Variable(field_path, segments)
    return _check_plain_segment(text, template)


def _check_plain_segment(text: str, template: str) -> str:
    if text in _SEGMENT_PATTERNS or _LITERAL.fullmatch(text):
        return text
    raise ValueError(f"path template {template!r} has an invalid segment {text!r}")


def _segment_regex(segment: Segment) -> str:
    if isinstance(segment, Variable):
        return "(" + "/".join(_segment_regex(s) for s in segment.segments) + ")"
    return _SEGMENT_PATTERNS.get(segment) or re.escape(segment)
