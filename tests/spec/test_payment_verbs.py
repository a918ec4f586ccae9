"""The payment verbs' arguments as `comptoir check` sees them, on a copy of the shipped
configuration: a field of the linked, child or target entity, an expression on it, a transition
or a state of another entity's workflow — each wrong name reported with its file:line:col."""

from __future__ import annotations

from pathlib import Path

from app.spec.loader import load_spec

W, A = "workflows.yaml", "schema/account.yaml"


def _break(root: Path, file: str, old: str, new: str) -> tuple[int, int]:
    """Replace the unique `old` by `new` in the file; the line and column of `new`'s value."""
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    start = text.index(old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    before = text[:start]
    line = before.count("\n") + 1
    column = start - (before.rfind("\n") + 1) + 1
    key = new.split(":")[0]
    return line, column + len(key) + 2  # the value after "key: "


def test_shipped_configuration_loads_with_the_payment_verbs(config_copy: Path) -> None:
    spec, errors = load_spec(config_copy)
    assert errors == [] and spec is not None
    settle = spec.workflows["invoice"].transitions["settle"].effects[0]
    assert settle.verb == "settle_invoice" and settle.args["counted"] == ["validated"]
    assert [c.verb for c in spec.entity("account").computes] == ["outstanding"]


def test_wrong_names_in_payment_verbs_are_reported_with_file_and_line(config_copy: Path) -> None:
    expected = [
        (W, *_break(config_copy, W, "            paid: amount_paid\n            payable", "            paid: amount_payed\n            payable"),
         "unknown field 'amount_payed' of 'invoice' in 'allocate_payment.paid' — did you mean 'amount_paid'?"),
        (W, *_break(config_copy, W, "allocation_amount: amount\n            unallocated", "allocation_amount: amont\n            unallocated"),
         "unknown field 'amont' of 'payment_allocation' in 'allocate_payment.allocation_amount'"),
        (W, *_break(config_copy, W, "            settle: settle\n        - refresh", "            settle: setle\n        - refresh"),
         "unknown transition 'setle' of 'invoice' in 'allocate_payment.settle' — did you mean 'settle'?"),
        (W, *_break(config_copy, W, "counted: [validated]", "counted: [recorded]"),
         "unknown state 'recorded' of 'payment' in 'settle_invoice.counted'"),
        (W, *_break(config_copy, W, "mark_paid: mark_paid\n", "mark_paid: mark_payed\n"),
         "unknown transition 'mark_payed' of 'invoice' in 'settle_invoice.mark_paid'"),
        (W, *_break(config_copy, W, "limit: credit_limit, outstanding: outstanding, block: false, when",
                    "limit: credit_limits, outstanding: outstanding, block: false, when"),
         "unknown field 'credit_limits' of 'account' in 'check_credit_limit.limit'"),
        (A, *_break(config_copy, A, "remaining: amount_remaining", "remaining: amount_due_left"),
         "unknown field 'amount_due_left' of 'invoice' in 'outstanding.remaining'"),
        (A, *_break(config_copy, A, "negative: \"kind == 'credit_note'\"", "negative: \"kinds == 'credit_note'\""),
         "unknown name 'kinds' in expression — did you mean 'kind'? (on 'invoice')"),
    ]
    spec, errors = load_spec(config_copy)
    assert spec is None
    found = sorted((e.location.file, e.location.line, e.location.column, e.message) for e in errors)
    assert len(found) == len(expected), "\n".join(map(str, errors))
    for (file, line, column, message), (efile, eline, ecolumn, emessage) in zip(found, sorted(expected)):
        assert (file, line) == (efile, eline), message
        assert emessage in message, message
        assert column == ecolumn, f"{file}:{line}:{column}: {message}"


def test_a_flag_argument_must_be_true_or_false(config_copy: Path) -> None:
    line, _ = _break(
        config_copy, W, "outstanding: outstanding, block: false}\n        - log",
        "outstanding: outstanding, block: 'no'}\n        - log",
    )
    _, errors = load_spec(config_copy)
    messages = [(e.location.file, e.location.line, e.message) for e in errors]
    assert (W, line, "expected true or false for 'check_credit_limit.block', got 'no'") in messages, messages
