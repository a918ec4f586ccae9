"""The context a PDF template is rendered with, built from any record by registered providers.

A provider is `fn(subject, context) -> None`; it adds names to the context. The built-in ones
(below, registered the same way as any other) give:
- `doc`: the record's fields by name, each link resolved to the target's fields (one level),
  each child collection a list of rows (their links resolved too), `<field>_label` for choices;
- `totals`: the app.domain.totals result when the entity has a `document_totals` compute;
- `schedule`: the installments of the payment terms named by `pdf.schedule`;
- `bank`: the bank details from `pdf.bank` (a link, or a link's rows: the default one first);
- `nature`: goods, services or both, from the lines' products (`kind` product/service);
- `state`: draft or locked, the SPECIMEN flag, the state's label.
Nothing here knows an entity by name: the YAML names the links, the templates the fields.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from app.domain.money import round_amount
from app.domain.payment_terms import Installment, schedule
from app.engine.store import Store
from app.engine.verbs import VerbContext
from app.engine.workflow import workflow_of
from app.spec.model import EntitySpec
from app.spec.pdf_templates import PdfSpec, PdfTemplate


@dataclass
class PdfSubject:
    store: Store
    entity: EntitySpec
    record: Any
    template: PdfTemplate

    @property
    def pdf(self) -> PdfSpec:
        return self.entity.pdf  # type: ignore[no-any-return]


Provider = Callable[[PdfSubject, dict[str, Any]], None]
_PROVIDERS: list[Provider] = []


def register_pdf_context(provider: Provider) -> Provider:
    """Add a context provider (usable as a decorator); providers run in registration order."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def build_context(subject: PdfSubject) -> dict[str, Any]:
    context: dict[str, Any] = {"entity": subject.entity, "template": subject.template, "options": _options(subject.template)}
    for provider in _PROVIDERS:
        provider(subject, context)
    return context


def _options(template: PdfTemplate) -> dict[str, Any]:
    from app.spec.pdf_templates import OPTION_DEFAULTS

    return {name: template.option(name) for name in OPTION_DEFAULTS}


# --- record values -----------------------------------------------------------------------


def _files_dir() -> Path:
    from app.engine.files import files_root

    return files_root()


def _data_uri(relative: str) -> str | None:
    """An uploaded image as a data: URI (WeasyPrint then needs no file access)."""
    root = _files_dir()
    path = (root / relative).resolve()
    if not path.is_file() or root not in path.parents:
        return None
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def row_values(store: Store, entity: EntitySpec, obj: Any, *, depth: int = 1, parent: str | None = None) -> dict[str, Any]:
    """Fields by name; links resolved (to `depth` levels, but for the `parent` link of a child
    row, which stays an id), choices with their label."""
    values: dict[str, Any] = {"id": obj.id}
    for field in entity.fields.values():
        if field.type == "password":
            continue
        value = getattr(obj, field.column_name)
        if field.is_link and depth > 0 and value is not None and field.name != parent:
            target_spec = store.spec.entities[field.to or ""]
            target = store.session.get(store.rt.models.cls(target_spec.name), value)
            values[field.name] = row_values(store, target_spec, target, depth=depth - 1) if target is not None else None
            continue
        values[field.name] = value
        if field.type == "image" and value:
            values[f"{field.name}_uri"] = _data_uri(str(value))
        if field.picklist and value is not None:
            picklist = store.spec.picklists.get(field.picklist)
            found = picklist.value(str(value)) if picklist is not None else None
            values[f"{field.name}_label"] = found.label.fr if found is not None else str(value)
    return values


@register_pdf_context
def record_provider(subject: PdfSubject, context: dict[str, Any]) -> None:
    store, entity, obj = subject.store, subject.entity, subject.record
    doc = row_values(store, entity, obj)
    for name, rows in store.children(entity, obj).items():
        child = next(c for c in entity.children if c.name == name)
        child_spec = store.spec.entities[child.entity]
        doc[name] = [row_values(store, child_spec, r, parent=child.via) for r in rows]
    context["doc"] = doc


@register_pdf_context
def totals_provider(subject: PdfSubject, context: dict[str, Any]) -> None:
    from app.verbs.figures import totals_compute
    from app.verbs.totals import document_totals_of

    compute = totals_compute(subject.entity)
    if compute is None:
        context["totals"] = None
        return
    child = next(c for c in subject.entity.children if c.name == compute.args["lines"])
    rows = subject.store.children(subject.entity, subject.record)[child.name]
    line_spec = subject.store.spec.entities[child.entity]
    context["totals"] = document_totals_of(subject.entity, line_spec, subject.record, rows, compute.args.get("percent"))


@register_pdf_context
def schedule_provider(subject: PdfSubject, context: dict[str, Any]) -> None:
    from app.verbs.terms import terms_of

    context["schedule"] = []
    link = subject.pdf.schedule
    totals = context.get("totals")
    doc = context["doc"]
    if link is None or totals is None or not doc.get("date"):
        return
    found = terms_of(VerbContext(subject.store, subject.entity, subject.record), link)
    if not found or not found[1]:
        return
    try:
        installments: list[Installment] = schedule(
            found[1], document_date=doc["date"], delivery_date=doc.get("delivery_date"), total=totals.amount_due
        )
    except ValueError:
        return  # terms that do not add up are refused when saved; never fail a print on them
    context["schedule"] = installments


@register_pdf_context
def bank_provider(subject: PdfSubject, context: dict[str, Any]) -> None:
    """The bank details from the first source of `pdf.bank` that has an IBAN: a link
    (`bank_account`) or a link's child rows (`company.bank_profiles`, the default row first)."""
    context["bank"] = None
    store, doc = subject.store, context["doc"]
    for source in subject.pdf.bank:
        link, _, child = source.partition(".")
        if not child:
            target = doc.get(link)
            if isinstance(target, dict) and target.get("iban"):
                context["bank"] = target
                return
            continue
        field = subject.entity.fields[link]
        target_id = getattr(subject.record, field.column_name)
        if target_id is None:
            continue
        target_spec = store.spec.entities[field.to or ""]
        target = store.session.get(store.rt.models.cls(target_spec.name), target_id)
        collection = next(c for c in target_spec.children if c.name == child)
        row_spec = store.spec.entities[collection.entity]
        rows = [row_values(store, row_spec, r, depth=0) for r in store.children(target_spec, target)[child]]
        rows = [r for r in rows if r.get("iban")]
        if rows:
            context["bank"] = next((r for r in rows if r.get("is_default")), rows[0])
            return


NATURES = {
    "B1": ("Livraison de biens", "Supply of goods"),
    "S1": ("Prestation de services", "Supply of services"),
    "M1": ("Livraison de biens et prestation de services", "Goods and services"),
}


@register_pdf_context
def nature_provider(subject: PdfSubject, context: dict[str, Any]) -> None:
    """Nature of the operation (French mandatory mention, e-invoicing BT-23 code)."""
    kinds: set[str] = set()
    for value in context["doc"].values():
        if not isinstance(value, list):
            continue
        for row in value:
            if not isinstance(row, dict) or row.get("kind") == "comment":
                continue
            product = row.get("product")
            if isinstance(product, dict) and product.get("kind") in ("product", "service"):
                kinds.add(str(product["kind"]))
            elif "quantity" in row:
                kinds.add("service")  # a free-text line: a service unless it names a product
    code = "M1" if len(kinds) > 1 else "B1" if kinds == {"product"} else "S1"
    context["nature"] = {"code": code, "label": NATURES[code][0], "label_en": NATURES[code][1]}


def is_locked(store: Store, entity: EntitySpec, obj: Any) -> bool:
    machine = workflow_of(store, entity)
    return machine is not None and machine.locked(getattr(obj, machine.status_column))


@register_pdf_context
def state_provider(subject: PdfSubject, context: dict[str, Any]) -> None:
    store, entity, obj = subject.store, subject.entity, subject.record
    machine = workflow_of(store, entity)
    locked = is_locked(store, entity, obj)
    status = getattr(obj, machine.status_column) if machine is not None else None
    context["state"] = {
        "code": status,
        "label": machine.state_label(status) if machine is not None else "",
        "locked": locked,
        "draft": not locked,
    }
    context["specimen"] = (not locked) and bool(subject.template.option("specimen"))


NNBSP = "\u202f"


def amount(value: Any) -> str:
    """1234.5 → "1 234,50" (French grouping with a narrow no-break space)."""
    if value is None or value == "":
        return ""
    return _grouped(round_amount(Decimal(value)))  # half up, as every amount (app/domain/money.py)


def price(value: Any) -> str:
    """A unit price as it was entered, two decimals at least: 45.5 → "45,50", 0.0125 →
    "0,0125" (a price of more than two decimals printed at two would not give the line's
    total: 1,000 × 0.0125 is 12.50, not 1,000 × 0.01)."""
    if value is None or value == "":
        return ""
    number = Decimal(value)
    exponent = number.normalize().as_tuple().exponent
    decimals = max(2, -exponent) if isinstance(exponent, int) else 2
    return _grouped(number.quantize(Decimal(1).scaleb(-decimals)))  # adds zeros, never rounds


def _grouped(number: Decimal) -> str:
    sign = "-" if number < 0 else ""
    whole, _, cents = f"{abs(number):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{NNBSP.join(groups)},{cents or '00'}"


def number(value: Any) -> str:
    """A quantity or a rate without useless zeros: 2.0000 → "2", 5.50 → "5,5", 1000 → "1 000"."""
    if value is None or value == "":
        return ""
    text = format(Decimal(value).normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, decimals = text.partition(".")
    grouped = _grouped(Decimal(whole))[:-3]  # the whole part grouped, without its ",00"
    return f"{sign}{grouped},{decimals}" if decimals else f"{sign}{grouped}"


def french_date(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value is not None and hasattr(value, "strftime") else ""
