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
