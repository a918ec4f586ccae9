"""Row colours evaluated on loaded rows: the first matching rule, the tree walker for simple
rules and Jinja for the others giving the same answers, empty values matching nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from app.engine.admin.colours import RowColours
from app.spec.expressions import fixed_clock
from app.spec.list_rules import ColourRule
from app.spec.model import EntitySpec, FieldSpec, Label, ListSpec

DAY = dt.date(2026, 3, 10)


def entity(*rules: str) -> EntitySpec:
    fields = {
        "status": FieldSpec("status", "choice", Label("État", "Status")),
        "due_date": FieldSpec("due_date", "date", Label("Échéance", "Due")),
        "amount": FieldSpec("amount", "money", Label("Montant", "Amount")),
        "owner": FieldSpec("owner", "link", Label("Commercial", "Owner"), to="user"),
        "urgent": FieldSpec("urgent", "boolean", Label("Urgent", "Urgent")),
        "name": FieldSpec("name", "string", Label("Nom", "Name")),
    }
    colours = tuple(ColourRule(when, f"#00000{i}", Label(f"r{i}", f"r{i}")) for i, when in enumerate(rules))
    return EntitySpec("thing", Label("Chose", "Thing"), Label("Choses", "Things"), fields, "name", ListSpec(("name",), colours=colours))


def row(**values: Any) -> Any:
    base = {"status": "sent", "due_date": None, "amount": Decimal("0"), "owner_id": None, "urgent": False, "name": "x", "id": 1}
    return SimpleNamespace(**{**base, **values})


RULES = (
    "status == 'draft'",
    "status in ['sent', 'partially_paid'] and due_date < today()",
    "owner == me() and (urgent or amount >= 1000)",
    "due_date <= today() + days(7) and not urgent",
    "name | length > 8",  # outside the SQL subset: Jinja evaluates it
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"status": "draft", "due_date": DAY - dt.timedelta(days=3)}, "c1"),  # the first rule wins
        ({"due_date": DAY - dt.timedelta(days=1)}, "c2"),
        ({"due_date": DAY}, "c4"),
        ({"due_date": None}, None),  # an empty date is not before today
        ({"owner_id": 7, "amount": Decimal("1000.00")}, "c3"),
        ({"owner_id": 8, "amount": Decimal("1000.00")}, None),
        ({"owner_id": 7, "urgent": True}, "c3"),
        ({"name": "Boulangerie Martin"}, "c5"),
        ({"name": "Boulange"}, None),
    ],
)
def test_first_matching_rule(values: dict[str, Any], expected: str | None) -> None:
    colours = RowColours(entity(*RULES))
    with fixed_clock(DAY):
        found = colours.of(row(**values), 7)
    assert (found.key if found else None) == expected
    if found:
        assert found.colour == f"#00000{int(expected[1:]) - 1}" and found.label == f"r{int(expected[1:]) - 1}"


def test_tree_walker_and_jinja_agree() -> None:
    """Each simple rule, evaluated by the walker and by Jinja, on rows around the edges."""
    rows = [
        row(status=s, due_date=d, amount=Decimal(a), owner_id=o, urgent=u)
        for s in ("draft", "sent", "paid")
        for d in (None, DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=7), DAY + dt.timedelta(days=8))
        for a in ("0", "999.99", "1000")
        for o in (None, 7)
        for u in (False, True)
    ]
    for rule in RULES[:4]:
        walker = RowColours(entity(rule))
        assert walker.rules[0].condition is not None
        jinja = RowColours(entity(rule))
        object.__setattr__(jinja.rules[0], "condition", None)
        with fixed_clock(DAY):
            for r in rows:
                assert (walker.of(r, 7) is None) == (jinja.of(r, 7) is None), (rule, r)


def test_no_rules_no_colour_and_legend_only_for_labelled_rules() -> None:
    assert not RowColours(entity())
    plain = entity("status == 'draft'")
    unlabelled = EntitySpec(
        plain.name, plain.label, plain.plural, plain.fields, plain.title,
        ListSpec(("name",), colours=(ColourRule("status == 'draft'", "#adb5bd"), ColourRule("urgent", "#d63939", Label("Urgent", "Urgent")))),
    )
    assert [(e.key, e.colour, e.label) for e in RowColours(unlabelled).legend()] == [("c2", "#d63939", "Urgent")]
