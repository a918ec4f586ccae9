"""French display of stored values: lists and detail pages (`display`), form inputs (`input_value`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable

from babel.numbers import format_currency, format_decimal
from markupsafe import Markup

from app.spec.model import AppSpec, FieldSpec

BABEL_LOCALE = "fr_FR"
CURRENCY = "EUR"
LIST_TEXT_LIMIT = 80


def money(value: Decimal) -> str:
    """`1 234,50 €` (narrow no-break spaces, as French typography wants)."""
    return format_currency(value, CURRENCY, locale=BABEL_LOCALE)


def number(value: Decimal | int) -> str:
    return format_decimal(value, format="#,##0.######", locale=BABEL_LOCALE)


def date(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def _iban(value: str) -> str:
    compact = value.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _badge(text: str, colour: str | None) -> Markup:
    if not colour:
        return Markup('<span class="badge bg-secondary-lt">{}</span>').format(text)
    return Markup('<span class="badge text-white" style="background-color: {}">{}</span>').format(colour, text)


def choice_label(spec: AppSpec, field: FieldSpec, code: str) -> str:
    picklist = spec.picklists.get(field.picklist or "")
    value = picklist.value(code) if picklist is not None else None
    return value.label.fr if value is not None else code


def display(spec: AppSpec, field: FieldSpec, value: Any, *, short: bool = False) -> Markup | str:
    """The value as staff read it: French numbers and dates, picklist labels, links."""
    if value is None or value == "" or field.type == "password":
        return Markup("")
    kind = field.type
    if kind == "money":
        return money(Decimal(value))
    if kind == "percent":
        return f"{number(Decimal(value))}\u00a0%"
    if kind in ("decimal", "integer"):
        return number(value)
    if kind in ("date", "datetime") and isinstance(value, dt.date):
        return date(value)
    if kind == "boolean":
        return "Oui" if value else "Non"
    if kind in ("choice", "status"):
        picklist = spec.picklists.get(field.picklist or "")
        entry = picklist.value(str(value)) if picklist is not None else None
        return _badge(entry.label.fr if entry else str(value), entry.colour if entry else None)
    if kind == "multichoice":
        codes = value if isinstance(value, list) else [value]
        return ", ".join(choice_label(spec, field, str(c)) for c in codes)
    if kind == "email":
        return Markup('<a href="mailto:{0}">{0}</a>').format(value)
    if kind == "url":
        return Markup('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>').format(value)
    if kind == "phone":
        return Markup('<a href="tel:{}">{}</a>').format(str(value).replace(" ", ""), value)
    if kind == "iban":
        return _iban(str(value))
    text = str(value)
    if short and len(text) > LIST_TEXT_LIMIT:
        return text[: LIST_TEXT_LIMIT - 1] + "…"
    return text


def input_value(field: FieldSpec, value: Any) -> str:
    """The text put back into a form input: decimal comma, ISO dates for date inputs."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def list_formatter(spec: AppSpec, field: FieldSpec) -> Callable[[Any, str], Any]:
    def formatter(obj: Any, attribute: str) -> Any:
        return display(spec, field, getattr(obj, field.column_name, None), short=True)

    return formatter


def detail_formatter(spec: AppSpec, field: FieldSpec) -> Callable[[Any, str], Any]:
    def formatter(obj: Any, attribute: str) -> Any:
        return display(spec, field, getattr(obj, field.column_name, None))

    return formatter
