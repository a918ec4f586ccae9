"""Payment terms: rows of a schedule (percentage, reference date, days) turned into due dates
and amounts.

A row's due date starts from its reference date (`base`):
- "document_date": the date of the document (quote signature, invoice date);
- "delivery_date": the delivery date, which the document must then have;
- "end_of_month": the last day of the document date's month.

then adds `days`, with `end_of_month_mode` choosing how "N jours fin de mois" is read. French
law (Code de commerce, art. L441-10) accepts both readings, so both are offered and each row
says which it uses:
- None: reference + N days ("30 jours net");
- "days_then_eom": add N days, then go to the end of that month — "45 jours fin de mois" as
  commonly applied: 10 Jan + 45 days = 24 Feb → 28 Feb;
- "eom_then_days": go to the end of the month, then add N days: 10 Jan → 31 Jan, + 45 days
  = 17 Mar.

Amounts are shares of the total by percentage, split by largest remainder so they add up to
the total exactly (`money.split_amount`): 100.00 in 33.33 / 33.33 / 33.34 % gives 33.33,
33.33, 33.34.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Sequence

from app.domain.money import HUNDRED, ZERO, D, split_amount

TermBase = Literal["document_date", "delivery_date", "end_of_month"]
EndOfMonthMode = Literal["days_then_eom", "eom_then_days"]
TermKind = Literal["deposit", "balance"]
TERM_BASES: tuple[TermBase, ...] = ("document_date", "delivery_date", "end_of_month")
END_OF_MONTH_MODES: tuple[EndOfMonthMode, ...] = ("days_then_eom", "eom_then_days")
TERM_KINDS: tuple[TermKind, ...] = ("deposit", "balance")


@dataclass(frozen=True)
class TermRow:
    """One row of a payment terms template: `percent` % of the total, due as the module says.

    `kind` tells a deposit (acompte) from the balance (solde); `mode` is the payment mode code
    (virement, chèque…), if the row fixes one.
    """

    percent: Decimal
    base: TermBase = "document_date"
    days: int = 0
    end_of_month_mode: EndOfMonthMode | None = None
    kind: TermKind = "balance"
    mode: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "percent", D(self.percent))
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise TypeError(f"nombre de jours invalide : {self.days!r} (an int is expected)")


@dataclass(frozen=True)
class Installment:
    """One due payment of a schedule."""

    date: dt.date
    amount: Decimal
    kind: TermKind
    mode: str | None
    percent: Decimal


def _fr(number: Decimal) -> str:
    """90 → "90", 99.990 → "99,99": a percentage as a French reader writes it."""
    text = format(number.normalize(), "f")
    return text.replace(".", ",")


def validate_terms(rows: Sequence[TermRow]) -> list[str]:
    """Every error of a schedule, in French; empty when the rows are usable."""
    if not rows:
        return ["aucune échéance : il en faut au moins une"]
    errors = []
    for number, row in enumerate(rows, start=1):
        where = f"échéance {number}"
        if row.percent <= 0:
            errors.append(f"{where} : le pourcentage doit être positif, pas {_fr(row.percent)} %")
        if row.days < 0:
            errors.append(f"{where} : le nombre de jours ne peut pas être négatif ({row.days})")
        if row.base not in TERM_BASES:
            errors.append(
                f"{where} : date de référence inconnue « {row.base} » "
                f"(valeurs possibles : {', '.join(TERM_BASES)})"
            )
        if row.end_of_month_mode is not None and row.end_of_month_mode not in END_OF_MONTH_MODES:
            errors.append(
                f"{where} : mode de fin de mois inconnu « {row.end_of_month_mode} » "
                f"(valeurs possibles : {', '.join(END_OF_MONTH_MODES)})"
            )
        if row.kind not in TERM_KINDS:
            errors.append(
                f"{where} : type inconnu « {row.kind} » "
                f"(valeurs possibles : {', '.join(TERM_KINDS)})"
            )
    total = sum((row.percent for row in rows), ZERO)
    if total != HUNDRED:
        errors.append(f"les échéances totalisent {_fr(total)} % au lieu de 100 %")
    return errors


def end_of_month(day: dt.date) -> dt.date:
    """The last day of `day`'s month: 2028-02-10 → 2028-02-29."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def due_date(
    row: TermRow, *, document_date: dt.date, delivery_date: dt.date | None = None
) -> dt.date:
    """The date a row falls due (see the module docstring for the two end-of-month readings)."""
    if row.base == "document_date":
        start = document_date
    elif row.base == "delivery_date":
        if delivery_date is None:
            raise ValueError(
                "échéance calculée sur la date de livraison, mais le document n'en a pas"
            )
        start = delivery_date
    elif row.base == "end_of_month":
        start = end_of_month(document_date)
    else:
        raise ValueError(f"date de référence inconnue « {row.base} »")
    days = dt.timedelta(days=row.days)
    if row.end_of_month_mode is None:
        return start + days
    if row.end_of_month_mode == "days_then_eom":
        return end_of_month(start + days)
    if row.end_of_month_mode == "eom_then_days":
        return end_of_month(start) + days
    raise ValueError(f"mode de fin de mois inconnu « {row.end_of_month_mode} »")


def schedule(
    rows: Sequence[TermRow],
    *,
    document_date: dt.date,
    delivery_date: dt.date | None = None,
    total: Decimal,
) -> list[Installment]:
    """The installments of `total` (whole cents) under `rows`, in row order; the amounts add
    up to `total` exactly. Raises ValueError with the French errors of `validate_terms`."""
    errors = validate_terms(rows)
    if errors:
        raise ValueError(" ; ".join(errors))
    amounts = split_amount(D(total), [row.percent for row in rows])
    return [
        Installment(
            date=due_date(row, document_date=document_date, delivery_date=delivery_date),
            amount=amount,
            kind=row.kind,
            mode=row.mode,
            percent=row.percent,
        )
        for row, amount in zip(rows, amounts)
    ]
