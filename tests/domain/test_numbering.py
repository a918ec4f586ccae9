import datetime as dt

import pytest

from app.domain.numbering import format_number, period_key, unknown_placeholders


@pytest.mark.parametrize(
    ("pattern", "day", "counter", "expected"),
    [
        ("CU{yy}{mm}-{0000}", dt.date(2026, 3, 9), 7, "CU2603-0007"),
        ("FA{yyyy}-{00000}", dt.date(2026, 12, 31), 123, "FA2026-00123"),
        ("D{yyyy}{mm}{dd}-{00}", dt.date(2026, 1, 2), 5, "D20260102-05"),
        ("P{000}", dt.date(2026, 1, 2), 1234, "P1234"),
    ],
)
def test_format_number(pattern: str, day: dt.date, counter: int, expected: str) -> None:
    assert format_number(pattern, day, counter) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("CU{yy}{mm}-{0000}", "2026-03"),
        ("FA{yyyy}-{00000}", "2026"),
        ("D{dd}{mm}{yy}-{00}", "2026-03-09"),
        ("P{000}", "all"),
    ],
)
def test_counter_restarts_per_period_shown(pattern: str, expected: str) -> None:
    assert period_key(pattern, dt.date(2026, 3, 9)) == expected


def test_unknown_placeholders() -> None:
    assert unknown_placeholders("X{yy}{month}-{00a}{000}") == ["month", "00a"]


def test_reset_defaults_to_yearly_with_a_year_else_never() -> None:
    from app.domain.numbering import default_reset, reset_key, reset_problems

    assert (default_reset("FA{yy}{mm}-{0000}"), default_reset("P{000}")) == ("yearly", "never")
    november, december = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    assert reset_key("yearly", november) == reset_key("yearly", december) == "2026"
    assert (reset_key("monthly", november), reset_key("monthly", december)) == ("2026-11", "2026-12")
    assert reset_key("never", november) == reset_key("never", dt.date(2030, 1, 1)) == "all"
    assert reset_problems("FA{yy}{mm}-{0000}", "monthly") == []
    assert reset_problems("FA{yy}-{0000}", "weekly") == ["unknown reset 'weekly' (use yearly, monthly, never)"]
    assert len(reset_problems("FA-{0000}", "yearly")) == 1 and len(reset_problems("FA{yy}-{0000}", "monthly")) == 1
