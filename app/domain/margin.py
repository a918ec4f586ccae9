"""The margin of a document: what its lines sell for minus what they cost.

    cost   = round(Σ quantity × cost_price) over the lines that have a cost price
    margin = total_net of the lines − cost
    rate   = margin / total_net, as a percentage rounded to 0.01 (none when the net is zero)

A line without a cost price counts in the net but adds no cost (nothing known about it);
comment lines count for nothing. The quantity is the billed one (× unit factor, × the share of
a deposit or progress line), so the cost follows what the document actually sells. Rounding
comes from app.domain.money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from app.domain.money import ZERO, D, ratio_percent, round_amount


@dataclass(frozen=True)
class CostLine:
    """One line as the margin sees it: its billed quantity and its unit cost (None: unknown)."""

    quantity: Decimal
    cost_price: Decimal | None


@dataclass(frozen=True)
class Margin:
    net: Decimal
    cost: Decimal
    amount: Decimal
    rate: Decimal | None  # percentage, e.g. Decimal("35.48"); None when the net is zero
    costed_lines: int  # how many lines had a cost price


def compute_margin(total_net: Decimal, lines: Sequence[CostLine]) -> Margin:
    """The margin of a document whose lines total `total_net` (already rounded to the cent)."""
    net = D(total_net)
    costed = [line for line in lines if line.cost_price is not None]
    cost = round_amount(sum((D(line.quantity) * D(line.cost_price) for line in costed if line.cost_price is not None), ZERO))
    amount = net - cost
    return Margin(net=net, cost=cost, amount=amount, rate=ratio_percent(amount, net), costed_lines=len(costed))
