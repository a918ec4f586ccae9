"""Order tracking line by line through the HTTP API, on the shipped configuration: partial
deliveries and their backorders, invoices made from delivery notes, the order closing by itself
once everything is delivered and invoiced, refusals past the ordered quantity, and progress
(situation) invoices summing exactly to the order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client

DAY = dt.date(2026, 12, 1)
LINES = [
    {"position": 1, "description": "Carrelage grès cérame", "quantity": "10", "unit_price": "33.33", "vat_rate": "20"},
    {"position": 2, "description": "Plinthes", "quantity": "4", "unit_price": "12.5", "vat_rate": "20"},
    {"position": 3, "description": "Colle", "quantity": "3", "unit_price": "19.99", "vat_rate": "10"},
]


def _parties(client: Any) -> dict[str, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    return {"company": company, "account": account}


def _act(client: Any, entity: str, record_id: int, action: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{action}")
    assert done.status_code == 200, done.text
    return dict(done.json())


def _created(client: Any, entity: str, record_id: int, action: str) -> dict[str, Any]:
    new = _act(client, entity, record_id, action)["created"][0]
    return dict(client.get(f"/api/v1/{new['entity']}/{new['id']}").json())


def _order(client: Any, lines: list[dict[str, Any]] = LINES) -> dict[str, Any]:
    created = client.post("/api/v1/order", json={**_parties(client), "lines": lines})
    assert created.status_code == 201, created.text
    return _act(client, "order", created.json()["id"], "validate")["record"]


def _by_line(record: dict[str, Any], key: str) -> list[str]:
    return [line[key] for line in sorted(record["lines"], key=lambda line: line["position"])]


def _quantities(lines: list[dict[str, Any]], changes: dict[int, str]) -> list[dict[str, Any]]:
    """The lines as PATCH sends them, with some quantities changed (by position)."""
    return [{"id": line["id"], "quantity": changes.get(line["position"], line["quantity"])} for line in lines]


def test_partial_deliveries_backorder_invoices_and_automatic_close(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client)
        assert _by_line(order, "qty_remaining") == ["10.0000", "4.0000", "3.0000"]
        first = _created(client, "order", order["id"], "convert_to_delivery")
        assert _by_line(first, "quantity") == ["10.0000", "4.0000", "3.0000"]
        assert _by_line(first, "order_line") == [line["id"] for line in sorted(order["lines"], key=lambda x: x["position"])]
        # the first delivery takes 6 tiles, every plinth, no glue
        kept = _quantities(first["lines"], {1: "6"})
        glue = next(line for line in first["lines"] if line["position"] == 3)
        patched = client.patch(f"/api/v1/delivery/{first['id']}", json={"lines": [line for line in kept if line["id"] != glue["id"]]})
        assert patched.status_code == 200, patched.text
        _act(client, "delivery", first["id"], "validate")
        order = client.get(f"/api/v1/order/{order['id']}").json()
        assert order["status"] == "in_progress"
        assert _by_line(order, "qty_delivered") == ["6.0000", "4.0000", "0.0000"]
        assert _by_line(order, "qty_remaining") == ["4.0000", "0.0000", "3.0000"]

        # the second delivery gets only the backorder: the plinths, all delivered, are skipped
        second = _created(client, "order", order["id"], "convert_to_delivery")
        assert [(line["description"], line["quantity"]) for line in second["lines"]] == [
            ("Carrelage grès cérame", "4.0000"),
            ("Colle", "3.0000"),
        ]
        _act(client, "delivery", second["id"], "validate")
        order = client.get(f"/api/v1/order/{order['id']}").json()
        assert _by_line(order, "qty_delivered") == ["10.0000", "4.0000", "3.0000"]
        nothing = client.post(f"/api/v1/order/{order['id']}/actions/convert_to_delivery")
        assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "nothing_left"

        # one invoice per delivery note; the order lines are reached through the invoice lines
        invoice_one = _created(client, "delivery", first["id"], "convert_to_invoice")
        assert invoice_one["total_net"] == "249.98"  # 6 × 33.33 + 4 × 12.50
        _act(client, "invoice", invoice_one["id"], "validate")
        order = client.get(f"/api/v1/order/{order['id']}").json()
        assert order["status"] == "in_progress"
        assert _by_line(order, "qty_invoiced") == ["6.0000", "4.0000", "0.0000"]
        invoice_two = _created(client, "delivery", second["id"], "convert_to_invoice")
        validated = _act(client, "invoice", invoice_two["id"], "validate")["record"]
        assert validated["status"] == "validated"
        order = client.get(f"/api/v1/order/{order['id']}").json()
    assert _by_line(order, "qty_invoiced") == ["10.0000", "4.0000", "3.0000"]
    assert order["status"] == "closed"  # by itself, in the same transaction as the last invoice
    total = Decimal(invoice_one["total_net"]) + Decimal(invoice_two["total_net"])
    assert total == Decimal(order["total_net"])
    assert "reopen" in order["allowed_actions"] and "convert_to_delivery" not in order["allowed_actions"]


def test_over_delivery_is_refused_naming_the_line_and_quantities(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client)
        delivery = _created(client, "order", order["id"], "convert_to_delivery")
        patched = client.patch(f"/api/v1/delivery/{delivery['id']}", json={"lines": _quantities(delivery["lines"], {2: "5"})})
        assert patched.status_code == 200, patched.text
        refused = client.post(f"/api/v1/delivery/{delivery['id']}/actions/validate")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "limit_exceeded" and error["field"] == "qty_delivered"
        assert "Plinthes" in error["message"] and "5" in error["message"] and "au-delà de 4" in error["message"]
        # everything rolled back: no number spent, nothing delivered
        again = client.get(f"/api/v1/delivery/{delivery['id']}").json()
        assert again["status"] == "draft" and again["number"] in (None, "")
        order = client.get(f"/api/v1/order/{order['id']}").json()
    assert _by_line(order, "qty_delivered") == ["0.0000", "0.0000", "0.0000"]


def test_cancelling_or_reopening_a_validated_delivery_gives_the_quantities_back(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client)
        delivery = _created(client, "order", order["id"], "convert_to_delivery")
        client.patch(f"/api/v1/delivery/{delivery['id']}", json={"lines": _quantities(delivery["lines"], {1: "7"})})
        _act(client, "delivery", delivery["id"], "validate")
        assert _by_line(client.get(f"/api/v1/order/{order['id']}").json(), "qty_delivered") == ["7.0000", "4.0000", "3.0000"]
        _act(client, "delivery", delivery["id"], "back_to_draft")
        assert _by_line(client.get(f"/api/v1/order/{order['id']}").json(), "qty_delivered") == ["0.0000", "0.0000", "0.0000"]
        _act(client, "delivery", delivery["id"], "validate")
        _act(client, "delivery", delivery["id"], "cancel")
        order = client.get(f"/api/v1/order/{order['id']}").json()
        assert _by_line(order, "qty_delivered") == ["0.0000", "0.0000", "0.0000"]
        assert _by_line(order, "qty_remaining") == ["10.0000", "4.0000", "3.0000"]
        # a draft cancelled gives nothing back (it had given nothing)
        draft = _created(client, "order", order["id"], "convert_to_delivery")
        _act(client, "delivery", draft["id"], "cancel")
        order = client.get(f"/api/v1/order/{order['id']}").json()
    assert _by_line(order, "qty_delivered") == ["0.0000", "0.0000", "0.0000"]


def test_invoice_from_the_order_takes_only_what_is_left_to_invoice(runtime: Any) -> None:
    client = api_client(runtime)
    lines = [*LINES, {"position": 4, "kind": "comment", "description": "Livraison en deux fois", "quantity": "0"}]
    with fixed_clock(DAY):
        order = _order(client, lines)
        first = _created(client, "order", order["id"], "convert_to_invoice")
        assert len(first["lines"]) == 3  # the comment line has nothing to invoice
        client.patch(f"/api/v1/invoice/{first['id']}", json={"lines": _quantities(first["lines"], {1: "2", 2: "1"})})
        _act(client, "invoice", first["id"], "validate")
        rest = _created(client, "order", order["id"], "convert_to_invoice")
        assert [(line["description"], line["quantity"]) for line in rest["lines"]] == [
            ("Carrelage grès cérame", "8.0000"),
            ("Plinthes", "3.0000"),
        ]
        over = client.patch(f"/api/v1/invoice/{rest['id']}", json={"lines": _quantities(rest["lines"], {2: "3.5"})})
        assert over.status_code == 200, over.text
        refused = client.post(f"/api/v1/invoice/{rest['id']}/actions/validate")
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "qty_invoiced", refused.text
        assert "Plinthes" in refused.json()["error"]["message"] and "4.5, au-delà de 4" in refused.json()["error"]["message"]
        client.patch(f"/api/v1/invoice/{rest['id']}", json={"lines": _quantities(rest["lines"], {})})
        _act(client, "invoice", rest["id"], "validate")
        order = client.get(f"/api/v1/order/{order['id']}").json()
    assert _by_line(order, "qty_invoiced") == ["10.0000", "4.0000", "3.0000", "0.0000"]
    assert order["status"] == "in_progress"  # invoiced but not delivered: it stays open
