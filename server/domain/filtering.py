"""The AIP-160 filter subset that List and Watch accept, parsed to a small AST.

Parsing happens once, up front, so a bad filter is INVALID_ARGUMENT on the
`filter` field naming the 1-based character position of the offending token,
never a database error later. Parsing knows nothing about resources;
`check_fields` then checks the AST against the fields one resource offers and
how each may be compared, so every consumer (SQL, in-memory watch matching)
receives only filters it can evaluate.

Deliberate departures from full AIP-160:
- terms must be joined with AND or OR: juxtaposition (`a = 1 b = 2`) is refused,
  because its implicit AND is easy to misread;
- every term is a comparison or a `:` (has) test; bare values (global search)
  and function calls are refused.

As AIP-160 says, OR binds tighter than AND: `a AND b OR c` is `a AND (b OR c)`.
Nodes compare equal regardless of where they were found in the text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from server.domain.errors import InvalidArgument

MAX_LENGTH = 2000
MAX_DEPTH = 32

COMPARATORS = ("=", "!=", "<", ">", "<=", ">=")
_KEYWORDS = ("AND", "OR", "NOT")
_OPERATOR_LIST = "=, !=, <, >, <=, >= or :"


@dataclass(frozen=True)
class Value:
    """A comparison's right-hand side, exactly as written; `quoted` if it was a string literal."""

    text: str
    quoted: bool = False
    position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class Compare:
    field: tuple[str, ...]
    op: str
    value: Value
    position: int = dataclasses.field(default=0, compare=False)
    op_position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class Has:
    """`field:value`; on a label map, `labels:key` or `labels.key:*` asks whether the key exists."""

    field: tuple[str, ...]
    value: Value
    position: int = dataclasses.field(default=0, compare=False)
    op_position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    operand: Expr
    position: int = dataclasses.field(default=0, compare=False)


Expr = Compare | Has | And | Or | Not


@dataclass(frozen=True)
class FieldKind:
    """How a filterable field may be compared; `values` lists an enum's names in display order."""

    kind: Literal["string", "enum", "timestamp", "label_map"]
    values: tuple[str, ...] = ()

    @classmethod
    def string(cls) -> FieldKind:
        return cls("string")

    @classmethod
    def enum(cls, values: tuple[str, ...]) -> FieldKind:
        return cls("enum", values)

    @classmethod
    def timestamp(cls) -> FieldKind:
        return cls("timestamp")

    @classmethod
    def label_map(cls) -> FieldKind:
        return cls("label_map")


def parse_filter(text: str) -> Expr | None:
    """The AST of `text`, or None when it is empty or only whitespace."""
    if len(text) > MAX_LENGTH:
        raise InvalidArgument.for_field("filter", f"must be at most {MAX_LENGTH} characters (got {len(text)})")
    tokens = _tokenize(text)
    if len(tokens) == 1:
        return None
    return _Parser(tokens).parse()


def check_fields(expr: Expr, allowed: Mapping[str, FieldKind]) -> None:
    """Refuse fields outside `allowed`, and values or operators their kind cannot take."""
    if isinstance(expr, And | Or):
        check_fields(expr.left, allowed)
        check_fields(expr.right, allowed)
    elif isinstance(expr, Not):
        check_fields(expr.operand, allowed)
    else:
        _check_term(expr, allowed)


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 timestamp with its offset, or None if `text` is not one."""
    if not _RFC3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:
        return None


def _error(position: int, what: str) -> InvalidArgument:
    return InvalidArgument.for_field("filter", f"position {position}: {what}")


# Tokens --------------------------------------------------------------------

_Kind = Literal["word", "string", "op", "minus", "(", ")", "end"]


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str
    position: int
    # Whitespace came right before this token (matters for `-` and `labels."k"`).
    spaced: bool


_WORD_END = re.compile(r"[\s()\"'=<>!:]")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    spaced = True
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            spaced = True
            continue
        start = i
        if c in "()":
            tokens.append(_Token("(" if c == "(" else ")", c, start + 1, spaced))
            i += 1
        elif c in "<>!=:":
            op = text[i : i + 2] if text[i : i + 2] in ("<=", ">=", "!=") else c
            if op == "!":
                raise _error(start + 1, 'unexpected "!"; use != or NOT')
            tokens.append(_Token("op", op, start + 1, spaced))
            i += len(op)
        elif c in "\"'":
            value, i = _read_string(text, i)
            tokens.append(_Token("string", value, start + 1, spaced))
        elif c == "-":
            tokens.append(_Token("minus", c, start + 1, spaced))
            i += 1
        else:
            end = _WORD_END.search(text, i)
            i = len(text) if end is None else end.start()
            tokens.append(_Token("word", text[start:i], start + 1, spaced))
        spaced = False
    tokens.append(_Token("end", "", len(text) + 1, True))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return "".join(chars), i + 1
        if c == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped not in _ESCAPES:
                shown = f'"\\{escaped}"' if escaped else "at the end"
                raise _error(i + 1, f"unknown escape {shown} in string; use \\\\, \\{quote}, \\n, \\t or \\r")
            chars.append(_ESCAPES[escaped])
            i += 2
        else:
            chars.append(c)
            i += 1
    raise _error(start + 1, f"unterminated string; close it with {quote}")


# Parser --------------------------------------------------------------------

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


def _unexpected(token: _Token) -> InvalidArgument:
    """After a complete term: anything but AND, OR, ")" or the end."""
    if token.kind == "op":
        return _error(token.position, f'unexpected "{token.text}" after a complete comparison')
    return _error(token.position, f"expected AND or OR before {_describe(token)}; terms are not joined implicitly")


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the filter"
    if token.kind == "string":
        return "a quoted string"
    return f'"{token.text}"'


class _Parser:
    """Recursive descent over AIP-160's expression / factor / term levels."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._i = 0
        self._depth = 0

    def parse(self) -> Expr:
        expr = self._expression()
        token = self._peek()
        if token.kind == ")":
            raise _error(token.position, 'unexpected ")" with no matching "("')
        if token.kind != "end":
            raise _unexpected(token)
        return expr

    @contextmanager
    def _nested(self, token: _Token) -> Iterator[None]:
        """Counts parentheses and negations so a hostile filter cannot exhaust the stack."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _error(token.position, f"nested more than {MAX_DEPTH} levels deep")
        try:
            yield
        finally:
            self._depth -= 1

    def _where(self, token: _Token) -> int:
        """Where to point for `token`: at the end, the last token, which is what is left unfinished."""
        return self._tokens[self._i - 2].position if token.kind == "end" else token.position

    def _peek(self) -> _Token:
        return self._tokens[self._i]

    def _next(self) -> _Token:
        token = self._tokens[self._i]
        self._i += 1
        return token

    def _at_keyword(self, keyword: str) -> bool:
        token = self._peek()
        return token.kind == "word" and token.text == keyword

    def _expression(self) -> Expr:
        expr = self._factor()
        while self._at_keyword("AND"):
            self._next()
            expr = And(expr, self._factor())
        return expr

    def _factor(self) -> Expr:
        expr = self._term()
        while self._at_keyword("OR"):
            self._next()
            expr = Or(expr, self._term())
        return expr

    def _term(self) -> Expr:
        token = self._peek()
        if self._at_keyword("NOT") or token.kind == "minus":
            self._next()
            if token.kind == "minus" and self._peek().spaced:
                raise _error(token.position, 'put "-" directly before the term it negates, e.g. -state = RUNNING')
            with self._nested(token):
                return Not(self._term(), token.position)
        if token.kind == "(":
            self._next()
            with self._nested(token):
                expr = self._expression()
            closing = self._next()
            if closing.kind == "end":
                raise _error(token.position, 'this "(" is never closed')
            if closing.kind != ")":
                raise _unexpected(closing)
            return expr
        return self._restriction()

    def _restriction(self) -> Expr:
        start = self._peek()
        path = self._field()
        op = self._next()
        if op.kind != "op":
            raise _error(
                self._where(op),
                f"expected an operator ({_OPERATOR_LIST}) after {_dotted(path)}, found {_describe(op)}",
            )
        value = self._value(op)
        if op.text == ":":
            return Has(path, value, start.position, op.position)
        return Compare(path, op.text, value, start.position, op.position)

    def _field(self) -> tuple[str, ...]:
        """A dotted name; a segment after a dot may be quoted, e.g. labels."example.com/tier"."""
        first = self._peek()
        if first.kind != "word" or first.text in _KEYWORDS:
            self._next()
            raise _error(self._where(first), f"expected a field name, found {_describe(first)}")
        token = first
        segments: list[str] = []
        awaiting_name = False  # a "." has been read and no name after it yet
        while True:
            self._next()
            if token.kind == "string":
                segments.append(token.text)
                awaiting_name = False
            else:
                parts = token.text.split(".")
                if segments:  # continues after a quoted segment, so starts with "."
                    parts = parts[1:]
                for part in parts[:-1]:
                    self._check_segment(part, token)
                segments.extend(parts[:-1])
                awaiting_name = parts[-1] == ""
                if not awaiting_name:
                    self._check_segment(parts[-1], token)
                    segments.append(parts[-1])
            token = self._peek()
            if token.spaced or token.kind not in ("word", "string"):
                break
            if (token.kind == "string") != awaiting_name or (token.kind == "word" and token.text[0] != "."):
                raise _error(token.position, f'expected "." between the parts of {_dotted(tuple(segments))}')
        if awaiting_name:
            raise _error(self._tokens[self._i - 1].position, f'expected a name after "{".".join(segments)}."')
        return tuple(segments)

    @staticmethod
    def _check_segment(segment: str, token: _Token) -> None:
        if not _SEGMENT.fullmatch(segment):
            raise _error(
                token.position,
                f'invalid field name "{token.text}"; quote names with other characters, e.g. labels."example.com/tier"',
            )

    def _value(self, op: _Token) -> Value:
        token = self._next()
        if token.kind == "string":
            return Value(token.text, quoted=True, position=token.position)
        if token.kind == "word" and token.text not in _KEYWORDS:
            return self._bare(token.text, token)
        if token.kind == "minus":
            number = self._peek()
            if number.kind == "word" and not number.spaced:
                self._next()
                return self._bare("-" + number.text, token)
        raise _error(self._where(token), f'expected a value after "{op.text}", found {_describe(token)}')

    def _bare(self, text: str, start: _Token) -> Value:
        glued = self._peek()
        if not glued.spaced and glued.kind in ("op", "string"):
            # e.g. create_time > 2024-01-31T12:00:00Z, cut short at the first ":".
            raise _error(start.position, f'quote values that contain "{glued.text[:1]}", e.g. "{text}{glued.text}..."')
        return Value(text, position=start.position)


def _dotted(path: tuple[str, ...]) -> str:
    return '"' + ".".join(path) + '"'


# Field checks ------------------------------------------------------------------


def _check_term(term: Compare | Has, allowed: Mapping[str, FieldKind]) -> None:
    name, kind, key = _resolve(term, allowed)
    value = term.value
    if kind.kind == "label_map":
        _check_label_term(term, name, key)
        return
    if isinstance(term, Has):
        raise _error(term.op_position, f'":" applies only to label maps, not to {name}; use = or !=')
    if kind.kind == "timestamp":
        if parse_timestamp(value.text) is None or not value.quoted:
            raise _error(
                value.position,
                f"{name} must be compared with a quoted RFC 3339 timestamp, "
                f'e.g. "2024-01-31T12:00:00Z" (got {_shown(value)})',
            )
        return
    if term.op not in ("=", "!="):
        raise _error(term.op_position, f'operator "{term.op}" does not apply to {name}; use = or !=')
    if kind.kind == "enum" and value.text not in kind.values:
        raise _error(value.position, f"unknown {name} {_shown(value)}; use one of {', '.join(kind.values)}")


def _resolve(term: Compare | Has, allowed: Mapping[str, FieldKind]) -> tuple[str, FieldKind, str | None]:
    """The allowed field a term names, its kind, and the map key after it, if any."""
    full = ".".join(term.field)
    if full in allowed:
        return full, allowed[full], None
    name = ".".join(term.field[:-1])
    kind = allowed.get(name)
    if kind is not None and kind.kind == "label_map":
        return name, kind, term.field[-1]
    known = ", ".join(sorted(allowed))
    raise _error(term.position, f'unknown field "{full}"; filter on one of {known}')


def _check_label_term(term: Compare | Has, name: str, key: str | None) -> None:
    if isinstance(term, Has):
        # labels:key, labels:* and labels.key:value all read naturally.
        return
    if key is None:
        raise _error(
            term.position,
            f'compare one label at a time, e.g. {name}.team = "db", or test a key with {name}:team',
        )
    if term.op not in ("=", "!="):
        raise _error(term.op_position, f'operator "{term.op}" does not apply to labels; use = or !=')


def _shown(value: Value) -> str:
    return f'"{value.text}"' if value.quoted else value.text
