"""`follow_up:` in workflows.yaml: the shipped steps, and broken edits of a copy of the shipped
configuration, each with the exact errors it must produce (file:line:col, message)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.spec.followup import PREVIOUS, FollowUpSpec
from app.spec.loader import load_spec

WORKFLOWS = "workflows.yaml"


def _follow_up(root: Path, entity: str) -> FollowUpSpec:
    spec, errors = load_spec(root)
    assert errors == [] and spec is not None
    follow_up = spec.workflows[entity].follow_up
    assert isinstance(follow_up, FollowUpSpec)
    return follow_up


def test_shipped_invoice_steps(config_copy: Path) -> None:
    follow_up = _follow_up(config_copy, "invoice")
    assert [(s.code, s.manual, s.after, s.days, s.template) for s in follow_up.steps] == [
        ("sent", True, PREVIOUS, 0, "invoice_sent.txt"),
        ("payment_received", True, PREVIOUS, 0, None),
        ("reminder_1", False, "due_date", 0, "reminder_1.txt"),
        ("reminder_2", False, PREVIOUS, 15, "reminder_2.txt"),
        ("formal_notice", False, PREVIOUS, 15, "formal_notice.txt"),
    ]
    assert [s.code for s in follow_up.sequence] == ["reminder_1", "reminder_2", "formal_notice"]
    notice = follow_up.step("formal_notice")
    assert notice is not None and notice.penalties is not None
    assert (notice.penalties.rate, notice.penalties.indemnity) == (Decimal("12.15"), Decimal("40"))
    assert (follow_up.due_date, follow_up.amount, follow_up.client, follow_up.warn_days, follow_up.send) == (
        "due_date", "amount_remaining", "account", 7, "auto")
    assert follow_up.recipients == ("contact.email", "account.email")
    assert follow_up.colours == {"not_due": "#206bc4", "due_soon": "#f59f00", "overdue": "#d63939"}
    quote = _follow_up(config_copy, "quote")
    assert [(s.code, s.after, s.days) for s in quote.sequence] == [("call_back", "sent_on", 7), ("second_call", PREVIOUS, 7)]
    assert quote.send == "mark"


def _position(text: str, needle: str, column_of: str) -> tuple[int, int]:
    """1-based line of `needle` and column of `column_of` inside that line."""
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    start = text.rfind("\n", 0, index) + 1
    return line, text.index(column_of, index) - start + 1


# (id, text replaced (first occurrence), replacement, where the error points (inside the
# replacement), the messages expected — every error of the load, in order)
CASES = [
    ("unknown-template", "template: reminder_1.txt", "template: reminder_9.txt", "reminder_9",
     ["unknown mail template 'reminder_9.txt' (templates/mail/) — did you mean"]),
    ("bad-colour", 'colour: "#f76707"', 'colour: "orange"', '"orange"',
     ["expected a colour written #rrggbb (e.g. #d63939) for 'colour', got 'orange'"]),
    ("negative-days", "days: 15, template: reminder_2.txt", "days: -3, template: reminder_2.txt", "-3",
     ["expected a number of at least 0 for 'days', got -3"]),
    ("first-step-without-after", "reminder_1: {label: {fr: Relance 1, en: Reminder 1}, after: due_date, days: 0,",
     "reminder_1: {label: {fr: Relance 1, en: Reminder 1}, days: 0,", "reminder_1",
     ["step 'reminder_1' is the first of the sequence: say after which date field, e.g. `after: due_date`"]),
    ("after-unknown-field", "after: due_date", "after: due_dat", "due_dat",
     ["'after' names a date field or 'previous', not 'due_dat' — did you mean 'due_date'?"]),
    ("verb-unknown-step", "- record_follow_up: {step: sent}\n", "- record_follow_up: {step: snet}\n", "snet",
     ["unknown follow-up step 'snet' of 'quote' — did you mean 'sent'?"]),
    ("follows-not-sql", "follows: \"status in ['validated', 'sent', 'partially_paid'] and kind in ['standard', 'progress']\"",
     "follows: \"status in ['validated'] and total_gross > amount_paid\"", "\"status",
     ["'follows': the right side of a comparison must be a constant or a list of constants"]),
    ("follows-unknown-field", "follows: \"status == 'sent'\"", "follows: \"stauts == 'sent'\"", "\"stauts",
     ["'follows': unknown field 'stauts' — did you mean 'status'?"]),
    ("recipient-unknown-link", "recipients: [contact.email, account.email]", "recipients: [contact.email, acount.email]", "acount",
     ["unknown link 'acount' of 'quote' in 'recipients' — did you mean 'account'?"]),
    ("send-mode", "send: auto", "send: always", "always", ["expected one of auto, mark for 'send', got 'always'"]),
    ("penalty-rate", 'penalties: {rate: "12.15", indemnity: "40"}', 'penalties: {rate: "douze", indemnity: "40"}', '"douze"',
     ["'penalties.rate' must be a number of 0 or more (e.g. \"12.15\"), not 'douze'"]),
    ("due-date-field", "due_date: due_date\n    amount", "due_date: date_due\n    amount", "date_due",
     ["unknown field 'date_due' of 'invoice' in 'due_date' — did you mean 'date'?"]),
    ("amount-not-money", "amount: amount_remaining", "amount: number", "number",
     ["'invoice.number' is a string field: 'amount' needs a money field"]),
    ("unknown-key", "warn_days: 7", "warn_dayz: 7", "warn_dayz", ["unknown key 'warn_dayz' — did you mean 'warn_days'?"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_follow_up_is_reported_with_its_place(config_copy: Path, case: tuple[str, str, str, str, list[str]]) -> None:
    _, old, new, marker, messages = case
    path = config_copy / WORKFLOWS
    text = path.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path.write_text(changed, encoding="utf-8")
    spec, errors = load_spec(config_copy)
    assert spec is None
    line, column = _position(changed, new, marker)
    assert [(e.location.file, e.location.line) for e in errors] == [(WORKFLOWS, line)] * len(messages), [str(e) for e in errors]
    assert [e.location.column for e in errors] == [column] * len(messages), [str(e) for e in errors]
    for error, message in zip(errors, messages):
        assert message in error.message, str(error)


def test_template_with_a_jinja_error_is_reported(config_copy: Path) -> None:
    (config_copy / "templates" / "mail" / "reminder_2.txt").write_text("Subject: {{ document.number }\nBonjour\n", encoding="utf-8")
    spec, errors = load_spec(config_copy)
    assert spec is None and len(errors) == 1
    assert errors[0].location.file == WORKFLOWS
    assert "mail template 'reminder_2.txt' line 1:" in errors[0].message


def test_template_without_subject_line_is_reported(config_copy: Path) -> None:
    (config_copy / "templates" / "mail" / "reminder_2.txt").write_text("Bonjour,\nvotre facture.\n", encoding="utf-8")
    spec, errors = load_spec(config_copy)
    assert spec is None
    assert [e.message for e in errors] == ["mail template 'reminder_2.txt' must start with a 'Subject: ...' line"]


def test_record_follow_up_without_follow_up_section(config_copy: Path) -> None:
    path = config_copy / WORKFLOWS
    text = path.read_text(encoding="utf-8")
    start = text.index("  # Quote follow-up")
    end = text.index("  states:", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    spec, errors = load_spec(config_copy)
    assert spec is None
    assert [e.message for e in errors] == ["'record_follow_up' needs a `follow_up:` section in the workflow of 'quote'"]
