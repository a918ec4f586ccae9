"""Late-payment penalties: amount × rate × days late / 365, rounded to the cent; 40 € once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.domain.dunning import days_late, late_penalty, penalty_statement

DUE = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("amount", "rate", "days", "expected"),
    [
        ("1200.00", "12.15", 45, "17.98"),  # 17.975 rounded half up
        ("1200.00", "12.15", 365, "145.80"),
        ("100.00", "10", 1, "0.03"),  # 0.0274
        ("1200.00", "12.15", 0, "0.00"),
        ("0.00", "12.15", 30, "0.00"),
        ("1200.00", "0", 30, "0.00"),
    ],
)
def test_late_penalty(amount: str, rate: str, days: int, expected: str) -> None:
    assert late_penalty(Decimal(amount), Decimal(rate), days) == Decimal(expected)


def test_days_late_counts_from_the_due_date() -> None:
    assert days_late(DUE, dt.date(2026, 12, 1)) == 0
    assert days_late(DUE, dt.date(2026, 12, 31)) == 30
    assert days_late(DUE, dt.date(2026, 11, 20)) == 0
    assert days_late(None, dt.date(2026, 11, 20)) == 0


def test_statement_adds_the_indemnity_once_and_totals() -> None:
    statement = penalty_statement(Decimal("1200"), DUE, dt.date(2027, 1, 15), Decimal("12.15"))
    assert (statement.days_late, statement.penalty, statement.indemnity, statement.total) == (
        45, Decimal("17.98"), Decimal("40.00"), Decimal("1257.98"))


def test_nothing_claimed_before_the_due_date_or_when_paid() -> None:
    early = penalty_statement(Decimal("1200"), DUE, dt.date(2026, 11, 30), Decimal("12.15"))
    assert (early.penalty, early.indemnity) == (Decimal("0.00"), Decimal("0.00"))
    paid = penalty_statement(Decimal("0"), DUE, dt.date(2027, 1, 15), Decimal("12.15"))
    assert (paid.amount, paid.penalty, paid.indemnity, paid.total) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
