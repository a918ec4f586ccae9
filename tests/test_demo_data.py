"""The demo data set: run load_demo against a fake `create` and check every row against the
shipped YAML (field names, types, picklist codes, links) and French identifier rules."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from schwifty import BIC, IBAN
from stdnum import ean
from stdnum.eu import vat
from stdnum.fr import siren as siren_mod
from stdnum.fr import siret as siret_mod
from stdnum.fr import tva

from app.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2025, 3, 14)

Row = tuple[str, int, dict[str, Any]]


def _schemas() -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "schema").glob("*.yaml"))}


SCHEMAS = _schemas()
PICKLISTS: dict[str, Any] = yaml.safe_load((ROOT / "picklists.yaml").read_text(encoding="utf-8"))


def _load(today: dt.date = TODAY) -> tuple[list[Row], dict[str, int]]:
    rows: list[Row] = []

    def create(entity: str, values: dict[str, Any]) -> int:
        record_id = 1000 + len(rows)  # ids shared by all entities: a wrong target shows
        children = SCHEMAS[entity].get("children", {})
        rows.append((entity, record_id, {k: v for k, v in values.items() if k not in children}))
        for name, child in children.items():  # nested rows (the instalments of payment terms)
            for row in values.get(name, []):
                rows.append((child["entity"], 1000 + len(rows), {child["via"]: record_id, **row}))
        return record_id

    return rows, load_demo(create, today=today)


ROWS, COUNTS = _load()


def _values(entity: str) -> list[dict[str, Any]]:
    return [values for name, _, values in ROWS if name == entity]


def _fields_of_type(*types: str) -> list[tuple[str, str, Any]]:
    """(entity, field, value) for every given value of a field of one of these types."""
    found: list[tuple[str, str, Any]] = []
    for entity, _, values in ROWS:
        fields = SCHEMAS[entity]["fields"]
        for name, value in values.items():
            if fields[name]["type"] in types:
                found.append((entity, name, value))
    return found


def test_counts_match_rows_and_sizes() -> None:
    assert COUNTS == dict(Counter(entity for entity, _, _ in ROWS))
    assert COUNTS["company"] == 1
    assert COUNTS["company_bank_profile"] == 2
    assert 25 <= COUNTS["account"] <= 40
    assert 50 <= COUNTS["contact"] <= 70
    assert COUNTS["worksite"] == 10
    assert COUNTS["product"] >= 40
    assert COUNTS["product_category"] >= 5
    kits = {values["product"] for values in _values("product_component")}
    assert len(kits) >= 2


def test_deterministic() -> None:
    rows, counts = _load()
    assert rows == ROWS and counts == COUNTS


def test_dates_follow_today() -> None:
    later = TODAY + dt.timedelta(days=100)
    rows, _ = _load(later)
    starts = [values.get("start_date") for entity, _, values in ROWS if entity == "worksite"]
    moved = [values.get("start_date") for entity, _, values in rows if entity == "worksite"]
    assert [s + dt.timedelta(days=100) if s else None for s in starts] == moved


def test_every_entity_is_declared() -> None:
    assert {entity for entity, _, _ in ROWS} <= set(SCHEMAS)


def test_every_field_exists_and_is_not_numbered() -> None:
    for entity, _, values in ROWS:
        spec = SCHEMAS[entity]
        numbered = {n["field"] for n in spec.get("numbering", [])}
        for name in values:
            assert name in spec["fields"], f"{entity}.{name} is not in schema/{entity}.yaml"
            assert name not in numbered, f"{entity}.{name} is numbered by the engine"
            assert not spec["fields"][name].get("readonly"), f"{entity}.{name} is read-only"


def test_required_fields_are_given() -> None:
    for entity, _, values in ROWS:
        for name, field in SCHEMAS[entity]["fields"].items():
            if field.get("required") and "default" not in field:
                assert values.get(name) not in (None, ""), f"{entity}.{name} is required"


def test_python_types_match_field_types() -> None:
    expected: dict[str, type | tuple[type, ...]] = {
        "integer": int,
        "decimal": Decimal,
        "money": Decimal,
        "percent": Decimal,
        "date": dt.date,
        "boolean": bool,
        "link": int,
        "multichoice": list,
    }
    for entity, _, values in ROWS:
        for name, value in values.items():
            field = SCHEMAS[entity]["fields"][name]
            wanted = expected.get(field["type"], str)
            assert isinstance(value, wanted), f"{entity}.{name} = {value!r}"
            if field["type"] in ("integer", "link"):
                assert not isinstance(value, bool), f"{entity}.{name} = {value!r}"
            if isinstance(value, str):
                limit = field.get("length", None if field["type"] == "text" else 255)
                assert limit is None or len(value) <= limit, f"{entity}.{name} too long"
                assert value == value.strip() and value, f"{entity}.{name} = {value!r}"


def test_money_has_two_decimals() -> None:
    money = _fields_of_type("money")
    assert money
    for entity, name, value in money:
        assert isinstance(value, Decimal) and value.as_tuple().exponent == -2, f"{entity}.{name} = {value!r}"
        assert value >= 0


def test_bounds() -> None:
    for entity, _, values in ROWS:
        for name, value in values.items():
            field = SCHEMAS[entity]["fields"][name]
            if "min" in field and isinstance(value, (int, Decimal)):
                assert value >= Decimal(str(field["min"])), f"{entity}.{name} = {value}"
            if "max" in field and isinstance(value, (int, Decimal)):
                assert value <= Decimal(str(field["max"])), f"{entity}.{name} = {value}"


def test_choice_codes_exist() -> None:
    checked = 0
    for entity, _, values in ROWS:
        for name, value in values.items():
            field = SCHEMAS[entity]["fields"][name]
            if field["type"] not in ("choice", "multichoice"):
                continue
            codes = {v["code"] for v in PICKLISTS[field["picklist"]]["values"]}
            for code in value if isinstance(value, list) else [value]:
                assert code in codes, f"{entity}.{name}: unknown code {code!r}"
                checked += 1
    assert checked > 100


def test_links_point_to_earlier_records_of_the_target_entity() -> None:
    created: dict[str, set[int]] = {}
    links = 0
    for entity, record_id, values in ROWS:
        for name, value in values.items():
            field = SCHEMAS[entity]["fields"][name]
            if field["type"] == "link":
                assert value in created.get(field["to"], set()), (
                    f"{entity}.{name} = {value}: no earlier {field['to']} with that id"
                )
                links += 1
        created.setdefault(entity, set()).add(record_id)
    assert links > 100


def test_children_point_to_their_parent() -> None:
    ids = {record_id: entity for entity, record_id, _ in ROWS}
    for parent, spec in SCHEMAS.items():
        for child in spec.get("children", {}).values():
            for values in _values(child["entity"]):
                assert ids[values[child["via"]]] == parent


def test_property_managers_and_buildings() -> None:
    accounts = {record_id: values for entity, record_id, values in ROWS if entity == "account"}
    managed = [values for values in accounts.values() if "property_manager" in values]
    managers = {values["property_manager"] for values in managed}
    assert len(managers) == 2 and len(managed) >= 4
    for manager in managers:
        assert "property_manager" not in accounts[manager]


def test_account_mix() -> None:
    accounts = _values("account")
    types = Counter(values["type"] for values in accounts)
    assert types["client"] >= 10 and types["prospect"] >= 3 and types["other"] >= 1
    assert sum(values["is_supplier"] for values in accounts) >= 2
    assert any(values["is_supplier"] and values["is_partner"] and values["type"] == "client" for values in accounts)


def test_one_primary_contact_per_account() -> None:
    primaries = Counter(values["account"] for values in _values("contact") if values["is_primary"])
    assert set(primaries.values()) == {1}
    assert len(primaries) == COUNTS["account"]


@pytest.mark.parametrize("field_type", ["siren", "siret", "vat_number", "iban", "bic"])
def test_identifiers_present(field_type: str) -> None:
    assert _fields_of_type(field_type)


def test_siren_siret_vat_are_valid_and_consistent() -> None:
    for entity in ("company", "account"):
        for values in _values(entity):
            if "siren" not in values:
                assert "siret" not in values and "vat_number" not in values
                continue
            siren = siren_mod.validate(values["siren"])
            assert siret_mod.validate(values["siret"])[:9] == siren
            assert tva.validate(values["vat_number"]) == values["vat_number"][2:]
            assert vat.validate(values["vat_number"]) == values["vat_number"]
            key = (12 + 3 * (int(siren) % 97)) % 97
            assert values["vat_number"] == f"FR{key:02d}{siren}"
    sirens = [v for _, _, v in _fields_of_type("siren")]
    assert len(sirens) == len(set(sirens))


def test_iban_and_bic_are_valid_and_match() -> None:
    for entity in ("company_bank_profile", "account"):
        for values in _values(entity):
            if "iban" not in values:
                assert "bic" not in values
                continue
            iban = IBAN(values["iban"], validate_bban=True)
            assert iban.country_code == "FR" and str(iban.compact) == values["iban"]
            bic = BIC(values["bic"])
            owner = values["name" if entity == "account" else "label"]
            assert iban.bic is not None and str(iban.bic)[:6] == str(bic)[:6], owner


def test_one_default_bank_profile() -> None:
    assert [values["is_default"] for values in _values("company_bank_profile")].count(True) == 1


def test_contacts_reach_nobody_real() -> None:
    for entity, name, value in _fields_of_type("email"):
        assert re.fullmatch(r"[a-z0-9.-]+@[a-z0-9.-]+\.example", value), f"{entity}.{name} = {value}"
    for entity, name, value in _fields_of_type("url"):
        assert re.fullmatch(r"https://www\.[a-z0-9.-]+\.example", value), f"{entity}.{name} = {value}"
    for entity, name, value in _fields_of_type("phone"):
        assert re.fullmatch(r"0(4 65 71|6 39 98)( \d\d){2}", value), f"{entity}.{name} = {value}"


def test_catalogue() -> None:
    products = _values("product")
    codes = [values["code"] for values in products]
    assert len(codes) == len(set(codes))
    assert {values["kind"] for values in products} == {"product", "service"}
    for values in products:
        assert values["sale_price"] > 0
        assert values["accounting_account"][:3] == ("707" if values["kind"] == "product" else "706")
        if "barcode" in values:
            assert ean.is_valid(values["barcode"]), values["code"]
    assert {values["vat_rate"] for values in products} >= {Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("0")}
    assert any(values.get("months_billed") == 12 and values["unit"] == "month" for values in products)
    categories = _values("product_category")
    assert any("parent" in values for values in categories)


def test_kit_components_are_other_products() -> None:
    for values in _values("product_component"):
        assert values["product"] != values["component"]
        assert values["quantity"] > 0


def test_worksite_dates_match_status() -> None:
    for values in _values("worksite"):
        start, end = values.get("start_date"), values.get("end_date")
        if start and end:
            assert start <= end
        if values["status"] == "completed":
            assert end is not None and end < TODAY
        if values["status"] == "planned":
            assert start is not None and start > TODAY
        if values["status"] == "in_progress":
            assert start is not None and start <= TODAY
