from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import (
    ZERO,
    D,
    is_cents,
    percent_of,
    round_amount,
    round_quantity,
    round_unit_price,
    split_amount,
)

cents = st.integers(-10**9, 10**9).map(lambda n: Decimal(n).scaleb(-2))


def test_d_accepts_str_int_decimal() -> None:
    assert D("12.45") == Decimal("12.45")
    assert D(" -3 ") == Decimal(-3)
    assert D(7) == Decimal(7)
    assert D(Decimal("0.10")) == Decimal("0.10")
    assert str(D("1.2300")) == "1.2300"  # the scale given is kept


@pytest.mark.parametrize("value", [1.24, 0.1, True])
def test_d_refuses_floats_and_bools(value: object) -> None:
    with pytest.raises(TypeError, match="montant invalide"):
        D(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1,5", "abc", "", "NaN", "Infinity"])
def test_d_refuses_what_is_not_a_finite_decimal(value: str) -> None:
    with pytest.raises(ValueError, match="montant invalide"):
        D(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.245", "1.25"),  # half up, where Python's round() would give 1.24
        ("0.125", "0.13"),
        ("0.124999", "0.12"),
        ("-1.245", "-1.25"),  # half away from zero: a credit note mirrors its invoice
        ("2.5", "2.50"),
        ("-0.001", "0.00"),
    ],
)
def test_round_amount_half_up(value: str, expected: str) -> None:
    assert str(round_amount(D(value))) == expected


def test_round_amount_never_gives_negative_zero() -> None:
    assert str(round_amount(D("-0.004"))) == "0.00"


def test_unit_prices_and_quantities_keep_their_decimals_up_to_six() -> None:
    assert str(round_unit_price(D("0.3333"))) == "0.3333"
    assert str(round_unit_price(D("12.5"))) == "12.5"
    assert str(round_unit_price(D("0.12345675"))) == "0.123457"
    assert str(round_unit_price(D("0.12345"), places=4)) == "0.1235"
    assert str(round_quantity(D("1.0000005"))) == "1.000001"
    assert str(round_quantity(D("12"))) == "12"


def test_percent_of_is_unrounded() -> None:
    assert percent_of(D("12.45"), D("10")) == D("1.245")
    assert percent_of(D("2.97"), D("5.5")) == D("0.16335")


def test_is_cents() -> None:
    assert is_cents(D("1.20"))
    assert is_cents(D("1.2000"))
    assert not is_cents(D("1.205"))


def test_split_amount_largest_remainder() -> None:
    assert split_amount(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]
    # 10.00 at 33.33 / 33.33 / 33.34 %: exact shares 3.333, 3.333, 3.334; the cent left over
    # goes to the largest remainder (0.4 of a cent).
    shares = [D("33.33"), D("33.33"), D("33.34")]
    assert split_amount(D("10.00"), shares) == [D("3.33"), D("3.33"), D("3.34")]
    assert split_amount(D("0.01"), [D(1), D(1)]) == [D("0.01"), D("0.00")]
    assert split_amount(D("-0.01"), [D(1), D(1)]) == [D("-0.01"), D("0.00")]
    assert split_amount(D("5.00"), [D(0), D(3)]) == [D("0.00"), D("5.00")]
    assert split_amount(ZERO, [D(0), D(0)]) == [D("0.00"), D("0.00")]


def test_split_amount_errors() -> None:
    with pytest.raises(ValueError, match="centime"):
        split_amount(D("1.005"), [D(1)])
    with pytest.raises(ValueError, match="zéro"):
        split_amount(D("1.00"), [D(1), D(-1)])
    with pytest.raises(ValueError, match="répartir"):
        split_amount(D("1.00"), [])


weights = st.lists(st.integers(0, 10**6).map(Decimal), min_size=1, max_size=8).filter(
    lambda ws: sum(ws) > 0
)


@given(cents, weights)
def test_split_amount_sums_exactly_and_stays_within_a_cent(
    total: Decimal, ws: list[Decimal]
) -> None:
    parts = split_amount(total, ws)
    assert sum(parts, ZERO) == total
    assert all(is_cents(p) for p in parts)
    for part, weight in zip(parts, ws):
        exact = Fraction(total) * Fraction(weight) / Fraction(sum(ws))
        assert abs(Fraction(part) - exact) < Fraction(1, 100)


@given(cents, weights)
def test_split_amount_of_the_opposite_is_the_opposite(total: Decimal, ws: list[Decimal]) -> None:
    assert split_amount(-total, ws) == [-p for p in split_amount(total, ws)]
