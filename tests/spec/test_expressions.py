"""The expression language: helpers, the overridable clock, compile errors and names."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.spec.expressions import (
    ExpressionError,
    Months,
    add_months,
    compile_expression,
    days,
    evaluate,
    fixed_clock,
    literal_value,
    months,
    now,
    today,
    uncalled_functions,
    undeclared_names,
)


def test_today_plus_days_with_a_fixed_today() -> None:
    with fixed_clock(date(2024, 3, 15)):
        assert today() == date(2024, 3, 15)
        assert evaluate("today() + days(30)") == date(2024, 4, 14)
        assert evaluate("now()") == datetime(2024, 3, 15, 0, 0)


def test_fixed_clock_is_restored_and_accepts_datetimes() -> None:
    with fixed_clock(datetime(2023, 12, 31, 23, 30)):
        assert now() == datetime(2023, 12, 31, 23, 30)
        assert today() == date(2023, 12, 31)
    assert abs(now() - datetime.now()) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 15), 3, date(2025, 2, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 1, 10), -13, date(2022, 12, 10)),
    ],
)
def test_add_months(start: date, count: int, expected: date) -> None:
    assert add_months(start, count) == expected
    assert start + months(count) == expected


def test_months_arithmetic_in_expressions() -> None:
    with fixed_clock(date(2024, 1, 31)):
        assert evaluate("today() + months(1)") == date(2024, 2, 29)
        assert evaluate("today() - months(2)") == date(2023, 11, 30)
        assert evaluate("today() + months(1) * 12") == date(2025, 1, 31)
    assert months(2) + months(1) == Months(3)
    assert datetime(2024, 1, 31, 8) + months(1) == datetime(2024, 2, 29, 8)
    with pytest.raises(ValueError, match="whole number"):
        months(1.5)


def test_days_accepts_decimals_and_refuses_text() -> None:
    from decimal import Decimal

    assert days(Decimal("30")) == timedelta(days=30)
    assert days(0.5) == timedelta(hours=12)
    with pytest.raises(ValueError, match="expects a number"):
        days("3")  # type: ignore[arg-type]


def test_context_gives_fields_and_user() -> None:
    expr = compile_expression("date + days(term) if user.vip else date")
    assert expr.names == frozenset({"date", "days", "term", "user"})
    context = {"date": date(2024, 5, 1), "term": 10, "user": {"vip": True}}
    assert expr.evaluate(context) == date(2024, 5, 11)
    assert evaluate("missing") is None


def test_builtin_functions_win_over_fields_of_the_same_name() -> None:
    assert evaluate("days(2)", {"days": 30}) == timedelta(days=2)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("today(", "unexpected 'end of expression'"),
        ("1 2", "unexpected text after the expression"),
        ("name | nofilter", "No filter named 'nofilter'"),
        ("{{ x }}", "invalid expression"),
    ],
)
def test_compile_errors(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        compile_expression(source)


def test_sandbox_blocks_unsafe_access() -> None:
    assert evaluate("x.__class__", {"x": 1}) is None
    with pytest.raises(Exception):
        evaluate("items.append(1)", {"items": []})


def test_names_helpers() -> None:
    assert undeclared_names("a + b | default(c) if none else true") == {"a", "b", "c"}
    assert undeclared_names("today") == {"today"}
    assert uncalled_functions("today + days") == {"today", "days"}
    assert uncalled_functions("today() + days(1)") == set()
    assert literal_value("'prospect'") == (True, "prospect")
    assert literal_value("['a', 'b']") == (True, ["a", "b"])
    assert literal_value("today()") == (False, None)


def test_remembered_values_follow_what_the_expression_reads() -> None:
    """An expression remembers its last results by the values it read (a batch evaluates the
    same `when` on thousands of records): each value counts with its type and, for a decimal,
    as written; the clock's functions are read again each time."""
    from decimal import Decimal

    from app.spec.expressions import compile_expression, fixed_clock

    test = compile_expression("kind == 'standard' and total > 0")
    assert [test.evaluate({"kind": k, "total": Decimal(t)}) for k, t in [("standard", "5"), ("deposit", "5"), ("standard", "0"), ("standard", "5")]] == [True, False, False, True]
    text = compile_expression("amount ~ ''")
    assert [text.evaluate({"amount": v}) for v in (Decimal("1.0"), Decimal("1"), 1, True)] == ["1.0", "1", "1", "True"]
    listed = compile_expression("lines | length")  # a list is not remembered, nor wrongly reused
    assert [listed.evaluate({"lines": rows}) for rows in ([1], [1, 2])] == [1, 2]
    clock = compile_expression("today()")
    with fixed_clock(date(2026, 12, 1)):
        first = clock.evaluate({})
    with fixed_clock(date(2026, 12, 2)):
        assert (first, clock.evaluate({})) == (date(2026, 12, 1), date(2026, 12, 2))
