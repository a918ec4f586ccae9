"""Late-payment penalties and the recovery indemnity of a formal notice (French practice).

Penalties run from the day after the due date: amount × yearly rate × days late / 365
(articles L441-10 and D441-5 of the Code de commerce); the fixed recovery indemnity (40 €) is
due once per invoice. Computed for the mail only: the invoice itself never changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from app.domain.money import HUNDRED, ZERO, round_amount

DAYS_PER_YEAR = Decimal(365)
RECOVERY_INDEMNITY = Decimal("40")


@dataclass(frozen=True)
class PenaltyStatement:
    amount: Decimal  # still due
    rate: Decimal  # yearly, in percent
    days_late: int
    penalty: Decimal
    indemnity: Decimal

    @property
    def total(self) -> Decimal:
        """What the formal notice claims: the amount due, the penalties and the indemnity."""
        return self.amount + self.penalty + self.indemnity


def days_late(due_date: dt.date | None, on: dt.date) -> int:
    if due_date is None:
        return 0
    return max(0, (on - due_date).days)


def late_penalty(amount: Decimal, rate_percent: Decimal, days: int) -> Decimal:
    """amount × rate × days / 365, rounded to the cent (0 for nothing due or no delay)."""
    if amount <= ZERO or days <= 0 or rate_percent <= ZERO:
        return round_amount(ZERO)
    return round_amount(amount * rate_percent / HUNDRED * Decimal(days) / DAYS_PER_YEAR)


def penalty_statement(
    amount: Decimal | None, due_date: dt.date | None, on: dt.date, rate_percent: Decimal,
    indemnity: Decimal = RECOVERY_INDEMNITY,
) -> PenaltyStatement:
    due = amount if amount is not None and amount > ZERO else ZERO
    late = days_late(due_date, on)
    return PenaltyStatement(
        amount=round_amount(due),
        rate=rate_percent,
        days_late=late,
        penalty=late_penalty(due, rate_percent, late),
        indemnity=round_amount(indemnity) if due > ZERO and late > 0 else round_amount(ZERO),
    )
