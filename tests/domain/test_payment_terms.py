import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import ZERO, D
from app.domain.payment_terms import (
    EndOfMonthMode,
    Installment,
    TermRow,
    due_date,
    end_of_month,
    schedule,
    validate_terms,
)

SIGNATURE_THEN_90_EOM = {
    "days_then_eom": [
        TermRow(D("30"), kind="deposit", mode="virement"),
        TermRow(D("70"), days=90, end_of_month_mode="days_then_eom"),
    ],
    "eom_then_days": [
        TermRow(D("30"), kind="deposit", mode="virement"),
        TermRow(D("70"), days=90, end_of_month_mode="eom_then_days"),
    ],
}


@pytest.mark.parametrize(
    ("document_date", "mode", "balance_date"),
    [
        # 31 Jan 2026 + 90 days = 1 May 2026 (28 Feb is +28, 31 Mar +59, 30 Apr +89)
        (dt.date(2026, 1, 31), "days_then_eom", dt.date(2026, 5, 31)),
        (dt.date(2026, 1, 31), "eom_then_days", dt.date(2026, 5, 1)),
        # 29 Feb 2028 (leap year) + 90 days = 29 May 2028 (31 Mar is +31, 30 Apr +61)
        (dt.date(2028, 2, 29), "days_then_eom", dt.date(2028, 5, 31)),
        (dt.date(2028, 2, 29), "eom_then_days", dt.date(2028, 5, 29)),
        # 15 Dec 2026 + 90 days = 15 Mar 2027 (31 Jan is +47, 28 Feb +75) → 31 Mar 2027;
        # end of month first: 31 Dec 2026 + 90 days = 31 Mar 2027 (31 Jan +31, 28 Feb +59)
        (dt.date(2026, 12, 15), "days_then_eom", dt.date(2027, 3, 31)),
        (dt.date(2026, 12, 15), "eom_then_days", dt.date(2027, 3, 31)),
        # 10 Jan 2026 + 90 days = 10 Apr 2026 → 30 Apr; 31 Jan + 90 days = 1 May 2026
        (dt.date(2026, 1, 10), "days_then_eom", dt.date(2026, 4, 30)),
        (dt.date(2026, 1, 10), "eom_then_days", dt.date(2026, 5, 1)),
    ],
)
def test_30_percent_at_signature_70_at_90_days_end_of_month(
    document_date: dt.date, mode: str, balance_date: dt.date
) -> None:
    installments = schedule(
        SIGNATURE_THEN_90_EOM[mode], document_date=document_date, total=D("12345.67")
    )
    # 30 % of 12,345.67 = 3,703.701 → 3,703.70; the balance takes the rest: 8,641.97
    assert installments == [
        Installment(document_date, D("3703.70"), "deposit", "virement", D("30")),
        Installment(balance_date, D("8641.97"), "balance", None, D("70")),
    ]


@pytest.mark.parametrize(
    ("document_date", "days_then_eom", "eom_then_days"),
    [
        # 31 Jan 2026 + 45 = 17 Mar → 31 Mar;        31 Jan + 45 = 17 Mar
        (dt.date(2026, 1, 31), dt.date(2026, 3, 31), dt.date(2026, 3, 17)),
        # 29 Feb 2028 + 45 = 14 Apr → 30 Apr;        29 Feb + 45 = 14 Apr
        (dt.date(2028, 2, 29), dt.date(2028, 4, 30), dt.date(2028, 4, 14)),
        # 15 Dec 2026 + 45 = 29 Jan 2027 → 31 Jan;   31 Dec + 45 = 14 Feb 2027
        (dt.date(2026, 12, 15), dt.date(2027, 1, 31), dt.date(2027, 2, 14)),
        # 10 Jan 2026 + 45 = 24 Feb → 28 Feb;        31 Jan + 45 = 17 Mar
        (dt.date(2026, 1, 10), dt.date(2026, 2, 28), dt.date(2026, 3, 17)),
        # 1 Feb 2028 + 45 = 17 Mar → 31 Mar;         29 Feb + 45 = 14 Apr
        (dt.date(2028, 2, 1), dt.date(2028, 3, 31), dt.date(2028, 4, 14)),
    ],
)
def test_45_days_end_of_month_both_readings(
    document_date: dt.date, days_then_eom: dt.date, eom_then_days: dt.date
) -> None:
    expected: dict[EndOfMonthMode, dt.date] = {
        "days_then_eom": days_then_eom,
        "eom_then_days": eom_then_days,
    }
    for mode, date in expected.items():
        rows = [TermRow(D("100"), days=45, end_of_month_mode=mode)]
        (installment,) = schedule(rows, document_date=document_date, total=D("500.00"))
        assert (installment.date, installment.amount) == (date, D("500.00"))


def test_other_bases() -> None:
    document, delivery = dt.date(2026, 3, 10), dt.date(2026, 4, 20)
    # 30 days net from the document date; from delivery; payment at the end of the month.
    assert due_date(TermRow(D(100), days=30), document_date=document) == dt.date(2026, 4, 9)
    assert due_date(
        TermRow(D(100), base="delivery_date", days=30),
        document_date=document,
        delivery_date=delivery,
    ) == dt.date(2026, 5, 20)
    assert due_date(TermRow(D(100), base="end_of_month"), document_date=document) == dt.date(
        2026, 3, 31
    )
    # "fin de mois le 10": end of month, then 10 days
    assert due_date(
        TermRow(D(100), base="end_of_month", days=10), document_date=document
    ) == dt.date(2026, 4, 10)
    with pytest.raises(ValueError, match="date de livraison"):
        due_date(TermRow(D(100), base="delivery_date"), document_date=document)


def test_end_of_month() -> None:
    assert end_of_month(dt.date(2028, 2, 10)) == dt.date(2028, 2, 29)
    assert end_of_month(dt.date(2026, 2, 10)) == dt.date(2026, 2, 28)
    assert end_of_month(dt.date(2026, 12, 31)) == dt.date(2026, 12, 31)


def test_terms_must_total_100_percent() -> None:
    rows = [TermRow(D("30"), kind="deposit"), TermRow(D("60"), days=30)]
    assert validate_terms(rows) == ["les échéances totalisent 90 % au lieu de 100 %"]
    with pytest.raises(ValueError, match="totalisent 90 % au lieu de 100 %"):
        schedule(rows, document_date=dt.date(2026, 1, 1), total=D("100.00"))
    thirds = [TermRow(D("33.33"))] * 3
    assert validate_terms(thirds) == ["les échéances totalisent 99,99 % au lieu de 100 %"]


def test_every_error_is_listed() -> None:
    rows = [
        TermRow(D("0")),
        TermRow(D("100"), days=-5),
        TermRow(D("10"), base="livraison", kind="solde"),  # type: ignore[arg-type]
    ]
    assert validate_terms(rows) == [
        "échéance 1 : le pourcentage doit être positif, pas 0 %",
        "échéance 2 : le nombre de jours ne peut pas être négatif (-5)",
        "échéance 3 : date de référence inconnue « livraison » "
        "(valeurs possibles : document_date, delivery_date, end_of_month)",
        "échéance 3 : type inconnu « solde » (valeurs possibles : deposit, balance)",
        "les échéances totalisent 110 % au lieu de 100 %",
    ]
    assert validate_terms([]) == ["aucune échéance : il en faut au moins une"]
    assert validate_terms([TermRow(D("100.00"))]) == []


def test_amounts_sum_exactly() -> None:
    rows = [TermRow(D("33.33")), TermRow(D("33.33")), TermRow(D("33.34"))]
    # 100.00: 33.33 + 33.33 + 33.34
    amounts = [i.amount for i in schedule(rows, document_date=dt.date(2026, 1, 1), total=D("100"))]
    assert amounts == [D("33.33"), D("33.33"), D("33.34")]
    # 0.02: exact shares 0.6666, 0.6666, 0.6668 of a cent; floors are 0, the two cents left
    # over go to the largest remainders: the third row, then the first.
    amounts = [i.amount for i in schedule(rows, document_date=dt.date(2026, 1, 1), total=D("0.02"))]
    assert amounts == [D("0.01"), D("0.00"), D("0.01")]


def test_total_must_be_in_cents_and_floats_are_refused() -> None:
    with pytest.raises(ValueError, match="centime"):
        schedule([TermRow(D(100))], document_date=dt.date(2026, 1, 1), total=D("1.005"))
    with pytest.raises(TypeError):
        TermRow(30.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TermRow(D(100), days=1.5)  # type: ignore[arg-type]


@st.composite
def term_rows(draw: st.DrawFn) -> list[TermRow]:
    """Rows whose percentages (2 decimals) total exactly 100."""
    cuts = sorted(draw(st.lists(st.integers(1, 9999), max_size=5, unique=True)))
    bounds = [0, *cuts, 10000]
    return [
        TermRow(Decimal(b - a).scaleb(-2), days=draw(st.integers(0, 120)))
        for a, b in zip(bounds, bounds[1:])
    ]


@given(
    term_rows(),
    st.integers(-10**9, 10**9).map(lambda n: Decimal(n).scaleb(-2)),
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
)
def test_schedule_amounts_sum_to_the_total(
    rows: list[TermRow], total: Decimal, day: dt.date
) -> None:
    assert validate_terms(rows) == []
    installments = schedule(rows, document_date=day, total=total)
    assert sum((i.amount for i in installments), ZERO) == total
    for row, installment in zip(rows, installments):
        assert abs(installment.amount - total * row.percent / 100) < D("0.01")
        assert installment.date >= day
