"""The one module that owns numbers and rounding for money.

Every amount is a `Decimal` built through `D()`, which refuses floats. Amounts are rounded to
the cent with ROUND_HALF_UP (half away from zero, so `round_amount(-x) == -round_amount(x)`
and a credit note is the exact negation of its invoice). Unit prices and quantities keep the
decimals they were given, up to six.

Rates (VAT, discounts, schedule shares) are percentages: `Decimal("20")` means 20 %.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Sequence

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
UNIT_PRICE_PLACES = 6
QUANTITY_PLACES = 6


def D(value: str | int | Decimal) -> Decimal:
    """The only constructor of numbers for money: from a str, an int or a Decimal, never a float.

    Strings use Python's decimal syntax ("1234.5", "-3", "1E+2"); "1,5" is refused because a
    comma is ambiguous (French decimal mark or thousands separator) — parsing a user's input is
    the interface's job. NaN and infinities are refused.
    """
    if type(value) is Decimal and value.is_finite():  # the usual case, first
        return value
    if isinstance(value, bool):
        raise TypeError(f"montant invalide : booléen {value!r} (invalid amount: a bool)")
    if isinstance(value, float):
        raise TypeError(
            f"montant invalide : flottant {value!r}, utiliser une chaîne ou un Decimal "
            "(floats are refused: pass a str or a Decimal)"
        )
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"montant invalide : {value!r} (not a decimal number)") from None
    else:
        raise TypeError(f"montant invalide : {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise ValueError(f"montant invalide : {value!r} (not a finite number)")
    return number


def round_amount(x: Decimal) -> Decimal:
    """Round an amount to the cent, half away from zero (ROUND_HALF_UP): 0.125 → 0.13.

    A result of zero is always +0.00, never -0.00.
    """
    if type(x) is not Decimal or not x.is_finite():
        x = D(x)  # refuses what is not a finite number
    return x.quantize(CENT, rounding=ROUND_HALF_UP) + ZERO


def _at_most(x: Decimal, places: int) -> Decimal:
    exponent = x.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked by D()
    if exponent >= -places:
        return x
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_unit_price(x: Decimal, places: int = UNIT_PRICE_PLACES) -> Decimal:
    """Keep a unit price as given, rounded (half up) only beyond `places` decimals."""
    return _at_most(D(x), places)


def round_quantity(x: Decimal, places: int = QUANTITY_PLACES) -> Decimal:
    """Keep a quantity as given, rounded (half up) only beyond `places` decimals."""
    return _at_most(D(x), places)


def percent_of(amount: Decimal, rate: Decimal) -> Decimal:
    """`rate` % of `amount`, unrounded: percent_of(12.45, 10) == 1.245."""
    if type(amount) is not Decimal or type(rate) is not Decimal or not (amount.is_finite() and rate.is_finite()):
        amount, rate = D(amount), D(rate)  # refuses floats, NaN and infinities
    return amount * rate / HUNDRED


def is_cents(x: Decimal) -> bool:
    """True when `x` needs no more than two decimals."""
    return D(x) == round_amount(x)


def split_amount(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` (whole cents) into parts proportional to `weights`, summing exactly to it.

    Largest remainder: each part first gets its exact share rounded down to the cent, then the
    cents left over go one each to the parts with the largest remainders (the first ones on a
    tie). A negative total is split as the negation of its opposite, so splitting `-t` gives
    exactly the negated parts of `t`. Weights may be any sign as long as they do not sum to
    zero; a zero weight gets nothing unless the rounding needs it.

    >>> split_amount(D("100.00"), [D("1"), D("1"), D("1")])
    [Decimal('33.34'), Decimal('33.33'), Decimal('33.33')]
    """
    total = D(total)
    if not is_cents(total):
        raise ValueError(f"montant à répartir non arrondi au centime : {total}")
    if not weights:
        raise ValueError("rien sur quoi répartir le montant (no weights)")
    if total < 0:
        return [-part for part in split_amount(-total, weights)]
    exact_weights = [Fraction(D(w)) for w in weights]
    weight_sum = sum(exact_weights, Fraction(0))
    if weight_sum == 0:
        if total == 0:
            return [ZERO.quantize(CENT) for _ in weights]
        raise ValueError(f"impossible de répartir {total} : les poids totalisent zéro")
    cents = int(total / CENT)
    shares = [Fraction(cents) * w / weight_sum for w in exact_weights]
    floors = [math.floor(s) for s in shares]
    left_over = cents - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in by_remainder[:left_over]:
        floors[i] += 1
    return [Decimal(f).scaleb(-2) for f in floors]


def round_percent(x: Decimal, places: int = 2) -> Decimal:
    """Round a percentage (a rate, a margin rate) to `places` decimals, half up: 35.555 → 35.56."""
    return D(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) + ZERO


def ratio_percent(part: Decimal, whole: Decimal, places: int = 2) -> Decimal | None:
    """`part` as a percentage of `whole`, rounded (None when `whole` is zero)."""
    whole = D(whole)
    if whole == 0:
        return None
    return round_percent(D(part) * HUNDRED / whole, places)
