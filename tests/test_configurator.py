"""The configurator's scenario: records exist, the YAML gains a field, a picklist value and an
entity, the app restarts on the same database, and everything shows up with nothing lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from starlette.testclient import TestClient

from tests.engine.apiclient import add_user_with_token, client_for, make_app

FLEET_FIELD = "  fleet_size: {type: integer, label: {fr: Taille de la flotte, en: Fleet size}, min: 0}\n"
KEY_ACCOUNT = '    - {code: key_account, label: {fr: Grand compte, en: Key account}, colour: "#ae3ec9", order: 4}\n'
VEHICLE_YAML = """\
# yaml-language-server: $schema=../app/spec/schemas/entity.schema.json
label: {fr: Véhicule, en: Vehicle}
plural: {fr: Véhicules, en: Vehicles}
title: plate
icon: fa-solid fa-truck
fields:
  plate: {type: string, label: {fr: Immatriculation, en: Registration}, required: true, unique: true, length: 20}
  account: {type: link, to: account, label: {fr: Tiers, en: Account}, required: true}
  model: {type: string, label: {fr: Modèle, en: Model}, length: 100}
  next_service: {type: date, label: {fr: Prochaine révision, en: Next service}}
list:
  columns: [plate, account, model, next_service]
  filters: [account]
  search: [plate, model]
  sort: plate
"""


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a YAML file, failing loudly when the file changed shape."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def configure(config: Path) -> None:
    """What a configurator does in YAML: a field, a picklist value, a new entity."""
    account = config / "schema" / "account.yaml"
    edit(account, "\nfields:\n", "\nfields:\n" + FLEET_FIELD)
    edit(account, "fields: [code, name, type,", "fields: [code, name, type, fleet_size,")
    picklists = config / "picklists.yaml"
    other = next(
        line for line in picklists.read_text(encoding="utf-8").splitlines(keepends=True) if "code: other" in line
    )  # the last value of account_type, the first list of the file
    edit(picklists, other, other + KEY_ACCOUNT)
    (config / "schema" / "vehicle.yaml").write_text(VEHICLE_YAML, encoding="utf-8")


def api_for(rt: Any, token: str) -> TestClient:
    return client_for(make_app(rt), token)


def test_a_field_a_picklist_value_and_an_entity_added_in_yaml(
    config_copy: Path, make_runtime: Callable[..., Any]
) -> None:
    before = make_runtime(config_copy)
    token = add_user_with_token(before, "configurateur", ["admin"])
    api = api_for(before, token)
    created = [
        api.post("/api/v1/account", json={"name": "Plomberie Martin", "type": "client", "city": "Lyon"}),
        api.post("/api/v1/account", json={"name": "Chauffage Bernard", "type": "prospect", "credit_limit": "1500.50"}),
    ]
    assert [r.status_code for r in created] == [201, 201], [r.text for r in created]
    contact = api.post("/api/v1/contact", json={"first_name": "Léa", "last_name": "Martin", "account": created[0].json()["id"]})
    assert contact.status_code == 201, contact.text
    rows_before = {r.json()["id"]: r.json() for r in created}
    assert api.get("/api/v1/vehicle").status_code == 404
    assert "fleet_size" not in api.get("/api/v1/openapi.json").text

    configure(config_copy)
    after = make_runtime(config_copy)  # a restart: a new runtime on the same database
    api = api_for(after, token)

    for record_id, row in rows_before.items():
        now = api.get(f"/api/v1/account/{record_id}")
        assert now.status_code == 200
        assert now.json()["fleet_size"] is None
        assert {k: v for k, v in now.json().items() if k != "fleet_size"} == row
    assert api.get(f"/api/v1/contact/{contact.json()['id']}").json()["last_name"] == "Martin"

    first_id = created[0].json()["id"]
    patched = api.patch(f"/api/v1/account/{first_id}", json={"fleet_size": 12, "type": "key_account"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["fleet_size"], patched.json()["type"], patched.json()["name"]) == (12, "key_account", "Plomberie Martin")
    refused = api.patch(f"/api/v1/account/{first_id}", json={"fleet_size": -1})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "fleet_size"

    vehicle = api.post("/api/v1/vehicle", json={"plate": "GH-417-KP", "account": first_id, "model": "Kangoo", "next_service": "2025-06-30"})
    assert vehicle.status_code == 201, vehicle.text
    assert vehicle.json()["account"] == first_id
    listed = api.get("/api/v1/vehicle", params={"account": first_id})
    assert [v["plate"] for v in listed.json()["items"]] == ["GH-417-KP"]
    duplicate = api.post("/api/v1/vehicle", json={"plate": "GH-417-KP", "account": first_id})
    assert duplicate.status_code in (409, 422), duplicate.text

    document = api.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "fleet_size" in schemas["account"]["properties"]
    assert "key_account" in str(schemas["account"]["properties"]["type"])
    assert {"plate", "account", "model", "next_service"} <= set(schemas["vehicle"]["properties"])
    assert any(path.rstrip("/").endswith("/vehicle") for path in document["paths"])
