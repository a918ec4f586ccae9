import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine.fieldtypes import FieldError, _french_decimal, parse_decimal, parse_value, to_json
from app.spec.model import AppSpec, FieldSpec, Label, Picklist, PicklistValue

SPEC = AppSpec(
    root=__import__("pathlib").Path("."),
    entities={},
    picklists={
        "level": Picklist(
            "level",
            Label("Niveau", "Level"),
            (PicklistValue("prospect", Label("Prospect", "Prospect")), PicklistValue("client", Label("Client", "Client"))),
        )
    },
    groups={},
)


def f(type_: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name="x", type=type_, label=Label("X", "X"), **kw)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", Decimal("1234.50")),
        ("1\u202f234,5", Decimal("1234.5")),
        ("1.234,56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),
        ("-0,01", Decimal("-0.01")),
        ("1'234,5", Decimal("1234.5")),
        (" 12.5 ", Decimal("12.5")),
        ("\u00a012\u202f", Decimal("12")),
        ("1_000", Decimal("1000")),
        (12, Decimal(12)),
    ],
)
def test_french_decimals(text: Any, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize(
    ("type_", "raw", "expected"),
    [
        ("money", "1 234,50", Decimal("1234.50")),
        ("money", "12", Decimal("12.00")),
        ("percent", "5,5", Decimal("5.5000")),
        ("integer", "42", 42),
        ("boolean", "oui", True),
        ("boolean", "false", False),
        ("date", "31/12/2026", dt.date(2026, 12, 31)),
        ("date", "2026-12-31", dt.date(2026, 12, 31)),
        ("siren", "732 829 320", "732829320"),
        ("siret", "73282932000074", "73282932000074"),
        ("vat_number", "FR 40 303 265 045", "FR40303265045"),
        ("iban", "FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
        ("bic", "BNPAFRPP", "BNPAFRPP"),
        ("email", "jean.dupont@exemple.fr", "jean.dupont@exemple.fr"),
        ("choice", "client", "client"),
        ("multichoice", "prospect,client", ["prospect", "client"]),
        ("link", "12", 12),
        ("string", "  ", None),
    ],
)
def test_parse_accepts(type_: str, raw: Any, expected: Any) -> None:
    field = f(type_, picklist="level") if "choice" in type_ else f(type_)
    assert parse_value(field, raw, SPEC) == expected


@pytest.mark.parametrize(
    ("type_", "raw", "message"),
    [
        ("money", "12,345", "2 décimales au plus"),
        ("money", "douze", "n'est pas un nombre"),
        ("integer", "1,5", "nombre entier attendu"),
        ("siret", "73282932000075", "SIRET invalide"),
        ("siren", "12345", "SIREN invalide"),
        ("iban", "FR76 3000 6000 0112 3456 7890 188", "IBAN invalide"),
        ("bic", "BN", "BIC invalide"),
        ("vat_number", "FR00303265045", "numéro de TVA invalide"),
        ("email", "pas-un-mail", "adresse e-mail invalide"),
        ("choice", "grossiste", "valeur inconnue « grossiste »"),
        ("date", "31/02/2026", "date invalide"),
        ("link", "abc", "identifiant invalide"),
        ("password", "court", "8 caractères au moins"),
    ],
)
def test_parse_refuses_with_french_message(type_: str, raw: Any, message: str) -> None:
    field = f(type_, picklist="level") if "choice" in type_ else f(type_)
    with pytest.raises(FieldError) as err:
        parse_value(field, raw, SPEC)
    assert message in err.value.message


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "sNaN", "1,2,3", "", "douze"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(FieldError):
        parse_decimal(text)


@given(st.text(alphabet="0123456789 .,'-+eE_\u00a0\u202f", max_size=12))
def test_a_number_python_reads_is_read_alike_the_french_way(text: str) -> None:
    """parse_decimal first tries the text as Python's decimal syntax: whatever that reads,
    the French reading (spaces, comma, grouping) of the same text gives the same number."""
    try:
        fast = parse_decimal(text)
    except FieldError:
        return
    try:
        slow = _french_decimal(text)
    except FieldError:
        assert False, f"{text!r}: read as {fast} but refused the French way"
    assert slow == fast and str(slow) == str(fast), text


def test_bounds() -> None:
    with pytest.raises(FieldError, match="au moins 0"):
        parse_value(f("money", min=0), "-1", SPEC)
    with pytest.raises(FieldError, match="au plus 2026-12-31"):
        parse_value(f("date", max="2026-12-31"), "2027-01-01", SPEC)
    assert parse_value(f("integer", min=1, max=3), "3", SPEC) == 3


def test_json_never_float() -> None:
    assert to_json(f("money"), Decimal("2.73")) == "2.73"
    assert to_json(f("date"), dt.date(2026, 1, 5)) == "2026-01-05"


def test_password_is_hashed() -> None:
    stored = parse_value(f("password"), "motdepasse-long", SPEC)
    assert stored.startswith("$argon2")
