"""Order tracking line by line through the HTTP API, on the shipped configuration: partial
deliveries and their backorders, invoices made from delivery notes, the order closing by itself
once everything is delivered and invoiced, refusals past the ordered quantity, and progress
(situation) invoices summing exactly to the order."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client, document_parties, run_action

DAY = dt.date(2026, 12, 1)
LINES = [
    {"position": 1, "description": "Carrelage grès cérame", "quantity": "10", "unit_price": "33.33", "vat_rate": "20"},
    {"position": 2, "description": "Plinthes", "quantity": "4", "unit_price": "12.5", "vat_rate": "20"},
    {"position": 3, "description": "Colle", "quantity": "3", "unit_price": "19.99", "vat_rate": "10"},
]


_parties, _act = document_parties, run_action


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
        # the comment line is copied as it is (it has nothing to invoice)
        assert [(line["kind"], line["description"]) for line in first["lines"]][3] == ("comment", "Livraison en deux fois")
        client.patch(f"/api/v1/invoice/{first['id']}", json={"lines": _quantities(first["lines"], {1: "2", 2: "1"})})
        _act(client, "invoice", first["id"], "validate")
        rest = _created(client, "order", order["id"], "convert_to_invoice")
        assert [(line["description"], line["quantity"]) for line in rest["lines"]] == [
            ("Carrelage grès cérame", "8.0000"),
            ("Plinthes", "3.0000"),
            ("Livraison en deux fois", "0.0000"),
        ]
        over = client.patch(f"/api/v1/invoice/{rest['id']}", json={"lines": _quantities(rest["lines"], {2: "3.5"})})
        assert over.status_code == 200, over.text
        refused = client.post(f"/api/v1/invoice/{rest['id']}/actions/validate")
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "qty_invoiced", refused.text
        assert "Plinthes" in refused.json()["error"]["message"] and "4.5, au-delà de 4" in refused.json()["error"]["message"]
        client.patch(f"/api/v1/invoice/{rest['id']}", json={"lines": _quantities(rest["lines"], {})})
        _act(client, "invoice", rest["id"], "validate")
        # everything is invoiced: the comment line alone makes no third invoice
        again = client.post(f"/api/v1/order/{order['id']}/actions/convert_to_invoice")
        assert again.status_code == 422 and again.json()["error"]["code"] == "nothing_left", again.text
        order = client.get(f"/api/v1/order/{order['id']}").json()
    assert _by_line(order, "qty_invoiced") == ["10.0000", "4.0000", "3.0000", "0.0000"]
    assert order["status"] == "in_progress"  # invoiced but not delivered: it stays open


# --- progress (situation) invoices -------------------------------------------------------------

AWKWARD = [
    {"position": 1, "description": "Gros œuvre", "quantity": "3", "unit_price": "1234.5678", "discount_percent": "7.5", "vat_rate": "20"},
    {"position": 2, "description": "Menuiseries", "quantity": "7", "unit_price": "0.3333", "vat_rate": "5.5"},
    {"position": 3, "description": "Peinture", "quantity": "1.5", "unit_price": "999.99", "discount_percent": "3", "vat_rate": "10"},
]
TOTALS = ("total_net", "total_vat", "total_gross")


def _progress(client: Any, source: str, source_id: int, percents: dict[int, str]) -> dict[str, Any]:
    """A progress invoice of the source, raised to `percents` (by line position), validated."""
    draft = _created(client, source, source_id, "create_progress_invoice")
    assert draft["kind"] == "progress"
    lines = [{"id": line["id"], "progress_percent": percents[line["position"]]} for line in draft["lines"]]
    patched = client.patch(f"/api/v1/invoice/{draft['id']}", json={"lines": lines})
    assert patched.status_code == 200, patched.text
    return dict(_act(client, "invoice", draft["id"], "validate")["record"])


def _sum(invoices: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(i[key]) for i in invoices), Decimal(0))


def test_three_progress_invoices_sum_exactly_to_the_order(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client, AWKWARD)
        invoices = [
            _progress(client, "order", order["id"], {1: "30", 2: "30", 3: "30"}),
            _progress(client, "order", order["id"], {1: "70", 2: "45.5", 3: "70"}),
            _progress(client, "order", order["id"], {1: "100", 2: "100", 3: "100"}),
        ]
        order = client.get(f"/api/v1/order/{order['id']}").json()
        nothing = client.post(f"/api/v1/order/{order['id']}/actions/create_progress_invoice")
    assert [i["number"] for i in invoices] == ["FA2612-0001", "FA2612-0002", "FA2612-0003"]
    assert _by_line(order, "progress_invoiced") == ["100.0000", "100.0000", "100.0000"]
    for key in TOTALS:
        assert _sum(invoices, key) == Decimal(order[key]), key
    assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "condition_failed"
    assert "déjà facturé" in nothing.json()["error"]["message"]


def test_progress_invoice_copies_the_progress_reached_and_refuses_to_go_back(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client, AWKWARD)
        _progress(client, "order", order["id"], {1: "30", 2: "30", 3: "30"})
        draft = _created(client, "order", order["id"], "create_progress_invoice")
        assert _by_line(draft, "previous_progress_percent") == ["30.0000", "30.0000", "30.0000"]
        assert _by_line(draft, "progress_percent") == ["30.0000", "30.0000", "30.0000"]
        assert draft["total_net"] == "0.00"  # nothing more until the user raises it
        ids = [line["id"] for line in sorted(draft["lines"], key=lambda line: line["position"])]

        def raised(**percents: str) -> list[dict[str, Any]]:
            return [{"id": ids[i], "progress_percent": percents.get(f"p{i}", "30")} for i in range(3)]

        lower = client.patch(f"/api/v1/invoice/{draft['id']}", json={"lines": raised(p1="20")})
        assert lower.status_code == 422, lower.text
        assert lower.json()["error"]["field"] == "lines[1]" and "Menuiseries" in lower.json()["error"]["message"]
        beyond = client.patch(f"/api/v1/invoice/{draft['id']}", json={"lines": raised(p0="101")})
        assert beyond.status_code == 422 and beyond.json()["error"]["field"].startswith("lines[0]"), beyond.text
        # two drafts made from the same situation: the second validated may not go back
        other = _created(client, "order", order["id"], "create_progress_invoice")
        for invoice, percent in ((draft, "70"), (other, "50")):
            lines = [{"id": line["id"], "progress_percent": percent} for line in invoice["lines"]]
            assert client.patch(f"/api/v1/invoice/{invoice['id']}", json={"lines": lines}).status_code == 200
        _act(client, "invoice", draft["id"], "validate")
        refused = client.post(f"/api/v1/invoice/{other['id']}/actions/validate")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "decreasing" and "Gros œuvre" in error["message"] and "70" in error["message"]
        order = client.get(f"/api/v1/order/{order['id']}").json()
        assert client.get(f"/api/v1/invoice/{other['id']}").json()["status"] == "draft"
    assert _by_line(order, "progress_invoiced") == ["70.0000", "70.0000", "70.0000"]


def test_progress_invoices_of_an_accepted_quote_track_its_lines(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        quote = client.post("/api/v1/quote", json={**_parties(client), "lines": AWKWARD})
        assert quote.status_code == 201, quote.text
        quote_id = quote.json()["id"]
        for action in ("validate", "accept"):
            _act(client, "quote", quote_id, action)
        invoices = [
            _progress(client, "quote", quote_id, {1: "40", 2: "10", 3: "0"}),
            _progress(client, "quote", quote_id, {1: "100", 2: "100", 3: "100"}),
        ]
        quote_now = client.get(f"/api/v1/quote/{quote_id}").json()
    assert quote_now["status"] == "accepted"
    assert _by_line(quote_now, "progress_invoiced") == ["100.0000", "100.0000", "100.0000"]
    assert [line["quote_line"] is not None for line in invoices[0]["lines"]] == [True, True, True]
    for key in TOTALS:
        assert _sum(invoices, key) == Decimal(quote_now[key]), key


# no line below 1.00: a 30 % step of a few cents would be a zero invoice, which is not validated
prices = st.decimals(min_value=Decimal("1"), max_value=Decimal("9999.9999"), places=4)
quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("99"), places=2)
rates = st.sampled_from(["20", "10", "5.5", "2.1", "0"])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(quantities, prices, rates), min_size=1, max_size=4))
def test_progress_30_70_100_of_random_orders_sum_to_the_cent(runtime: Any, lines: list[tuple[Decimal, Decimal, str]]) -> None:
    client = api_client(runtime, login=f"admin-{uuid.uuid4().hex[:8]}")  # one runtime for every example
    order_lines = [
        {"position": i + 1, "description": f"Lot {i + 1}", "quantity": str(q), "unit_price": str(p), "vat_rate": r}
        for i, (q, p, r) in enumerate(lines)
    ]
    with fixed_clock(DAY):
        order = _order(client, order_lines)
        invoices = [
            _progress(client, "order", order["id"], {i + 1: percent for i in range(len(lines))}) for percent in ("30", "70", "100")
        ]
    for key in TOTALS:
        assert _sum(invoices, key) == Decimal(order[key]), key


def test_a_credit_note_gives_the_quantities_back_and_reopens_the_closed_order(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client)
        delivery = _created(client, "order", order["id"], "convert_to_delivery")
        _act(client, "delivery", delivery["id"], "validate")
        invoice = _created(client, "order", order["id"], "convert_to_invoice")
        _act(client, "invoice", invoice["id"], "validate")
        assert client.get(f"/api/v1/order/{order['id']}").json()["status"] == "closed"
        # the invoice was wrong: a credit note of its second line (the 4 plinthes)
        plinthes = next(line["id"] for line in invoice["lines"] if line["description"] == "Plinthes")
        done = client.post(f"/api/v1/invoice/{invoice['id']}/actions/create_credit_note", json={"lines": [plinthes]})
        assert done.status_code == 200, done.text
        note = client.get(done.json()["created"][0]["url"]).json()
        _act(client, "invoice", note["id"], "validate")
        order = client.get(f"/api/v1/order/{order['id']}").json()
        assert _by_line(order, "qty_invoiced") == ["10.0000", "0.0000", "3.0000"]
        assert order["status"] == "in_progress"  # reopened: the plinthes are to invoice again
        again = _created(client, "order", order["id"], "convert_to_invoice")
        assert [(line["description"], line["quantity"]) for line in again["lines"]] == [("Plinthes", "4.0000")]
        _act(client, "invoice", again["id"], "validate")
        assert client.get(f"/api/v1/order/{order['id']}").json()["status"] == "closed"


def test_cancelling_a_delivery_of_a_closed_order_reopens_it_but_a_hand_closed_one_stays(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        order = _order(client)
        delivery = _created(client, "order", order["id"], "convert_to_delivery")
        _act(client, "delivery", delivery["id"], "validate")
        _act(client, "invoice", _created(client, "order", order["id"], "convert_to_invoice")["id"], "validate")
        assert client.get(f"/api/v1/order/{order['id']}").json()["status"] == "closed"
        _act(client, "delivery", delivery["id"], "cancel")
        assert client.get(f"/api/v1/order/{order['id']}").json()["status"] == "in_progress"
        # closed by hand with a backorder: a cancelled delivery does not reopen it
        other = _order(client)
        partial = _created(client, "order", other["id"], "convert_to_delivery")
        client.patch(f"/api/v1/delivery/{partial['id']}", json={"lines": _quantities(partial["lines"], {1: "5"})})
        _act(client, "delivery", partial["id"], "validate")
        _act(client, "order", other["id"], "close")
        _act(client, "delivery", partial["id"], "cancel")
        assert client.get(f"/api/v1/order/{other['id']}").json()["status"] == "closed"
