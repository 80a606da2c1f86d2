"""The query language, the tokenizer and identifier detection (no backend needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from search.analysis import identifier_forms, identifiers_in_text, tokenize
from search.errors import QuerySyntaxError
from search.query import And, Fuzzy, MatchAll, Not, Or, Phrase, Range, Term, Wildcard, parse


def test_operators_precedence_and_fields() -> None:
    tree = parse("a OR b c -d source:hotel")
    assert isinstance(tree, Or)
    left, right = tree.children
    assert left == Term(0, "a")
    assert isinstance(right, And)
    assert right.children[2] == Not(9, Term(10, "d"))
    assert right.children[3] == Term(19, "hotel", "source")


def test_leaves() -> None:
    assert parse('"王 建国"~1') == Phrase(0, "王 建国", None, 1)
    assert parse("plate:浙D*") == Wildcard(6, "浙D*", "plate")
    assert parse("wang~") == Fuzzy(0, "wang", None, 2)
    assert parse("time:{2024-01-01 TO *]") == Range(5, "time", "2024-01-01", None, False, True)
    assert parse("time:>=2024-01-05T10:00") == Range(5, "time", "2024-01-05T10:00", None)
    assert parse("  ") == MatchAll(0)
    assert parse(r"a\:b") == Term(0, "a:b")


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ("a AND", 5, "needs something after"),
        ("OR a", 0, "needs something before"),
        ("(a b", 0, "missing ')'"),
        ("a b)", 3, "unmatched ')'"),
        ('x "abc', 2, "unterminated phrase"),
        ("loss:[1 TO 2", 12, "range must end"),
        ("loss:[1 2]", 8, "'TO'"),
        ("x:", 2, "has no value"),
        ("wang~3", 5, "fuzzy distance"),
        ("*", None, None),
    ],
)
def test_malformed_queries_point_at_the_culprit(
    query: str, position: int | None, words: str | None
) -> None:
    if position is None:
        assert parse(query) == MatchAll(0)
        return
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.position == position
    assert words in str(info.value)
    assert str(info.value).splitlines()[-1].index("^") == position + 2


def test_plan_errors_name_fields_and_values() -> None:
    from search_backends import registry

    from search.plan import Planner

    planner = Planner(registry())
    with pytest.raises(QuerySyntaxError, match="holds numbers"):
        planner.plan("loss:[a TO b]")
    with pytest.raises(QuerySyntaxError, match="not a date"):
        planner.plan("time:[yesterday TO *]")
    with pytest.raises(QuerySyntaxError, match="needs a field"):
        planner.plan("[1 TO 2]")
    assert "not declared" in planner.plan("colour:red").warnings[0]


def test_tokenizer_splits_han_and_keeps_words_like_elasticsearch_standard() -> None:
    assert tokenize("嫌疑人入室盗窃 Hello World") == [
        "嫌",
        "疑",
        "人",
        "入",
        "室",
        "盗",
        "窃",
        "hello",
        "world",
    ]
    assert tokenize("3.5万元 U.S.A don't 1,000 ab1.5 ＡＢＣ１２３") == [
        "3.5",
        "万",
        "元",
        "u.s.a",
        "don't",
        "1,000",
        "ab1.5",
        "abc123",
    ]


def test_identifier_forms() -> None:
    assert identifier_forms("浙d·12345") == ["浙D12345"]
    assert identifier_forms("浙D 12345") == ["浙D12345"]
    assert identifier_forms("+86 138-0013-8000") == ["13800138000"]
    assert identifier_forms("0571-8765 4321") == ["057187654321"]
    assert identifier_forms("330102 19900101 123x") == ["33010219900101123X"]
    assert identifier_forms("hello") == [] and identifier_forms("12345") == []
    assert identifiers_in_text("车牌浙D·12345，电话+86 138-0013-8000") == {
        "浙D12345",
        "13800138000",
    }


def test_search_imports_without_qt_or_heavy_clients() -> None:
    code = (
        "import sys, search, search.cli, search.stage, search.saved; "
        "bad = [m for m in ('PyQt6', 'tantivy', 'elasticsearch') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_only_ascii_digits_count_after_tilde() -> None:
    # found by the trust team's fuzzing: "¹".isdigit() is True but int("¹") fails
    assert parse("wang~¹") == And(0, (Fuzzy(0, "wang", None, 2), Term(5, "¹")))
    with pytest.raises(QuerySyntaxError, match="a number is expected"):
        parse('"a b"~²')
