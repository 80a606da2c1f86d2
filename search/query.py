"""The analysts' query language (Lucene-like) and its syntax tree.

Grammar (``AND`` binds tighter than ``OR``; juxtaposition means ``AND``)::

    query    := or_expr
    or_expr  := and_expr (("OR" | "||") and_expr)*
    and_expr := unary (("AND" | "&&")? unary)*
    unary    := ("NOT" | "!" | "-") unary | "+" unary | primary
    primary  := "(" or_expr ")" | FIELD ":" value | value
    value    := "(" or_expr ")"                      -- field:(a OR b) applies the field inside
              | '"' phrase '"' ("~" INT)?
              | ("[" | "{") BOUND "TO" BOUND ("]" | "}")
              | (">" | ">=" | "<" | "<=") BOUND
              | TERM ("~" INT?)?                     -- * and ? make a wildcard, ~ a fuzzy term

Examples: ``入室盗窃``, ``"王建国" AND source:hotel``, ``plate:浙D*``, ``wang~1``,
``time:[2024-01-01 TO 2024-01-31] -category:诈骗``, ``loss:>=5000``.
A malformed query raises :class:`~search.errors.QuerySyntaxError` with the offending position.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.errors import QuerySyntaxError


# -- syntax tree ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """Base of every syntax-tree node; ``pos`` is the offset in the query string."""

    pos: int


@dataclass(frozen=True)
class MatchAll(Node):
    """The empty query: every record."""


@dataclass(frozen=True)
class Term(Node):
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase(Node):
    text: str
    field: str | None = None
    slop: int = 0


@dataclass(frozen=True)
class Wildcard(Node):
    pattern: str
    field: str | None = None


@dataclass(frozen=True)
class Fuzzy(Node):
    text: str
    field: str | None = None
    distance: int = 2


@dataclass(frozen=True)
class Range(Node):
    """``low``/``high`` are the bound strings as written (``None`` for ``*``)."""

    field: str | None
    low: str | None
    high: str | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    child: Node


# -- parser --------------------------------------------------------------------------------------
_STOP = set('()"[]{}')


class _Parser:
    def __init__(self, query: str) -> None:
        self.q = query
        self.i = 0
        self.depth = 0

    # helpers
    def error(self, message: str, pos: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.q, self.i if pos is None else pos)

    def skip_ws(self) -> None:
        while self.i < len(self.q) and self.q[self.i].isspace():
            self.i += 1

    def peek(self) -> str:
        return self.q[self.i] if self.i < len(self.q) else ""

    def at_keyword(self, *words: str) -> str | None:
        self.skip_ws()
        for w in words:
            end = self.i + len(w)
            if self.q.startswith(w, self.i) and (
                w in ("&&", "||")
                or end >= len(self.q)
                or self.q[end].isspace()
                or self.q[end] in "()"
            ):
                return w
        return None

    # grammar
    def parse(self) -> Node:
        self.skip_ws()
        if self.i >= len(self.q):
            return MatchAll(0)
        node = self.or_expr()
        self.skip_ws()
        if self.i < len(self.q):
            if self.peek() == ")":
                raise self.error("unmatched ')'")
            raise self.error(f"unexpected {self.peek()!r}")
        return node

    def or_expr(self, field: str | None = None) -> Node:
        start = self.i
        children = [self.and_expr(field)]
        while (kw := self.at_keyword("OR", "||")) is not None:
            self.i += len(kw)
            self.expect_operand(kw)
            children.append(self.and_expr(field))
        return children[0] if len(children) == 1 else Or(start, tuple(children))

    def and_expr(self, field: str | None) -> Node:
        self.skip_ws()
        start = self.i
        children = [self.unary(field)]
        while True:
            self.skip_ws()
            if self.i >= len(self.q) or self.peek() == ")" or self.at_keyword("OR", "||"):
                break
            if (kw := self.at_keyword("AND", "&&")) is not None:
                self.i += len(kw)
                self.expect_operand(kw)
            children.append(self.unary(field))
        return children[0] if len(children) == 1 else And(start, tuple(children))

    def expect_operand(self, op: str) -> None:
        self.skip_ws()
        if self.i >= len(self.q) or self.peek() == ")":
            raise self.error(f"{op} needs something after it")
        if self.at_keyword("AND", "OR", "&&", "||"):
            raise self.error(f"{op} followed by another operator")

    def unary(self, field: str | None) -> Node:
        self.skip_ws()
        start = self.i
        if (kw := self.at_keyword("AND", "OR", "&&", "||")) is not None:
            raise self.error(f"{kw} needs something before it")
        if (kw := self.at_keyword("NOT")) is not None:
            self.i += len(kw)
            self.expect_operand("NOT")
            return Not(start, self.unary(field))
        ch = self.peek()
        if ch in ("-", "!") and self.i + 1 < len(self.q) and not self.q[self.i + 1].isspace():
            self.i += 1
            return Not(start, self.unary(field))
        if ch == "+" and self.i + 1 < len(self.q) and not self.q[self.i + 1].isspace():
            self.i += 1
            return self.unary(field)
        return self.primary(field)

    def primary(self, field: str | None) -> Node:
        self.skip_ws()
        start = self.i
        ch = self.peek()
        if ch == "":
            raise self.error("query ends where a term was expected")
        if ch == "(":
            return self.group(field)
        if ch == ")":
            raise self.error("unmatched ')'")
        if ch in '"[{' or (ch in "<>" and field is not None):
            return self.value(field, start)
        word = self.read_word()
        if self.peek() == ":" and word and field is None:
            name = word
            if not _valid_field(name):
                raise self.error(f"invalid field name {name!r}", start)
            self.i += 1
            if self.i >= len(self.q) or self.peek().isspace() or self.peek() == ")":
                raise self.error(f"field {name!r} has no value")
            return self.value(name, self.i)
        if not word:
            raise self.error(f"unexpected {ch!r}")
        return self.finish_term(word, field, start)

    def group(self, field: str | None) -> Node:
        open_pos = self.i
        self.i += 1
        self.depth += 1
        if self.depth > 50:
            raise self.error("parentheses nested too deeply")
        self.skip_ws()
        if self.peek() == ")":
            raise self.error("empty parentheses")
        node = self.or_expr(field)
        self.skip_ws()
        if self.peek() != ")":
            raise self.error("missing ')' for the '(' here", open_pos)
        self.i += 1
        self.depth -= 1
        return node

    def value(self, field: str | None, start: int) -> Node:
        ch = self.peek()
        if ch == "(":
            return self.group(field)
        if ch == '"':
            return self.phrase(field, start)
        if ch in "[{":
            return self.range(field, start)
        if ch in "<>":
            op = ch
            self.i += 1
            if self.peek() == "=":
                op += "="
                self.i += 1
            bound_pos = self.i
            bound = self.read_word(allow_colon=True)
            if not bound:
                raise self.error(f"{op} needs a value", bound_pos)
            if op.startswith(">"):
                return Range(start, field, bound, None, include_low=op == ">=")
            return Range(start, field, None, bound, include_high=op == "<=")
        word = self.read_word(allow_colon=field is not None)
        if not word:
            raise self.error(f"field {field!r} has no value" if field else "a term is expected")
        return self.finish_term(word, field, start)

    def phrase(self, field: str | None, start: int) -> Node:
        self.i += 1
        buf = []
        while self.i < len(self.q) and self.q[self.i] != '"':
            if self.q[self.i] == "\\" and self.i + 1 < len(self.q):
                self.i += 1
            buf.append(self.q[self.i])
            self.i += 1
        if self.i >= len(self.q):
            raise self.error("unterminated phrase: missing closing '\"'", start)
        self.i += 1
        slop = 0
        if self.peek() == "~":
            self.i += 1
            slop = self.read_int(default=None)
        text = "".join(buf)
        if not text.strip():
            raise self.error("empty phrase", start)
        return Phrase(start, text, field, slop)

    def range(self, field: str | None, start: int) -> Node:
        include_low = self.peek() == "["
        self.i += 1
        self.skip_ws()
        low = self.read_bound()
        self.skip_ws()
        if not self.q.startswith("TO", self.i):
            raise self.error("range needs 'TO' between its bounds")
        self.i += 2
        self.skip_ws()
        high = self.read_bound()
        self.skip_ws()
        if self.peek() not in ("]", "}"):
            raise self.error("range must end with ']' or '}'")
        include_high = self.peek() == "]"
        self.i += 1
        return Range(
            start,
            field,
            None if low == "*" else low,
            None if high == "*" else high,
            include_low,
            include_high,
        )

    def read_bound(self) -> str:
        start = self.i
        if self.peek() == '"':
            end = self.q.find('"', self.i + 1)
            if end < 0:
                raise self.error("unterminated quoted bound", start)
            self.i = end + 1
            return self.q[start + 1 : end]
        while self.i < len(self.q) and not self.q[self.i].isspace() and self.q[self.i] not in "]}":
            self.i += 1
        if self.i == start:
            raise self.error("range bound expected")
        return self.q[start : self.i]

    def read_word(self, allow_colon: bool = False) -> str:
        buf = []
        while self.i < len(self.q):
            ch = self.q[self.i]
            if ch == "\\":
                if self.i + 1 >= len(self.q):
                    raise self.error("dangling escape '\\'")
                buf.append(self.q[self.i + 1])
                self.i += 2
                continue
            if ch.isspace() or ch in _STOP or ch == "~" or (ch == ":" and not allow_colon):
                break
            buf.append(ch)
            self.i += 1
        return "".join(buf)

    def read_int(self, default: int | None) -> int:
        start = self.i
        while self.i < len(self.q) and self.q[self.i] in "0123456789":  # not "¹" (isdigit)
            self.i += 1
        if self.i == start:
            if default is None:
                raise self.error("a number is expected after '~'")
            return default
        return int(self.q[start : self.i])

    def finish_term(self, word: str, field: str | None, start: int) -> Node:
        if self.peek() == "~":
            self.i += 1
            distance = self.read_int(default=2)
            if distance > 2:
                raise self.error("fuzzy distance must be 0, 1 or 2", self.i - 1)
            return Fuzzy(start, word, field, distance)
        raw = self.q[start : self.i]
        if ("*" in word or "?" in word) and ("\\*" not in raw and "\\?" not in raw):
            if word.strip("*?") == "":
                if word == "*" and field is None:
                    return MatchAll(start)
                raise self.error("a wildcard needs at least one other character", start)
            return Wildcard(start, word, field)
        return Term(start, word, field)


def _valid_field(name: str) -> bool:
    return all(ch.isalnum() or ch in "_.-" for ch in name) and not name[0].isdigit()


def parse(query: str) -> Node:
    """Parse an analyst's query into a syntax tree (empty query: :class:`MatchAll`)."""
    if len(query) > 10_000:
        raise QuerySyntaxError("query is longer than 10,000 characters", query, 10_000)
    return _Parser(query).parse()
