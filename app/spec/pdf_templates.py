"""The `pdf:` section of an entity file: its printable templates, their options, and Factur-X.

    pdf:
      templates:
        invoice: {file: invoice.html, label: {fr: Facture, en: Invoice}, when: "kind == 'standard'"}
        training_quote:
          file: training_quote.html
          label: {fr: Devis formation, en: Training quote}
          options: {discount_column: false, totals: each_page}
      facturx:
        type_code: "'381' if kind == 'credit_note' else '380'"
        preceding: credited_invoice
      schedule: payment_terms
      bank: [bank_account, company.bank_profiles]   # a link, or a link's child rows (default first)

A template file lives in templates/pdf/ of the configuration folder (the project's own
templates/pdf/ is the fallback, so a configurator's file may extend base.html). The template
used by default is the first whose `when` holds (no `when`: always). Unknown keys and options
are reported by the JSON Schema; this module checks files, expressions and field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from app.spec.errors import SpecError
from app.spec.expressions import EXPRESSION_NAMES, ExpressionError, compile_expression
from app.spec.model import EntitySpec, Label
from app.spec.suggest import did_you_mean
from app.spec.values import label_of, mapping, opt_str
from app.spec.yamlpos import YamlDoc

PDF_DIR = Path("templates") / "pdf"
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Option name -> default value. The JSON Schema (entity.schema.json) lists the same names.
OPTION_DEFAULTS: dict[str, Any] = {
    "prices": True,  # False: a delivery note (no unit price, no amount, no totals)
    "unit_price_column": True,
    "discount_column": True,
    "product_code": True,
    "product_image": False,
    "barcode": False,
    "totals": "last_page",  # or "each_page": the totals box repeated at the foot of every page
    "payments": True,  # deposits and payments already made
    "schedule": True,  # the payment schedule
    "bank_details": True,
    "general_terms": True,  # general terms and special conditions, on their own pages
    "specimen": True,  # a draft carries the SPECIMEN watermark
    "proforma": False,  # a pro-forma: never stored, never an e-invoice
    "title": "",  # the document title printed; empty: the template's own
}


@dataclass(frozen=True)
class PdfTemplate:
    name: str
    file: str
    label: Label
    when: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str) -> Any:
        return self.options.get(name, OPTION_DEFAULTS[name])


@dataclass(frozen=True)
class FacturxSpec:
    type_code: str  # an expression giving the UNTDID 1001 code: 380, 381, 386…
    preceding: str | None = None  # link to the invoice a credit note corrects (BT-25)


@dataclass(frozen=True)
class PdfSpec:
    templates: Mapping[str, PdfTemplate]
    facturx: FacturxSpec | None = None
    schedule: str | None = None  # link field to the payment terms whose rows give the schedule
    bank: tuple[str, ...] = ()  # where the printed bank details come from, first found wins

    def default_for(self, values: Mapping[str, Any]) -> PdfTemplate | None:
        for template in self.templates.values():
            if template.when is None or compile_expression(template.when).evaluate(values):
                return template
        return None


def template_dirs(root: Path) -> list[Path]:
    """Where template files are looked up: the configuration's, then the project's."""
    dirs = [Path(root) / PDF_DIR]
    own = PROJECT_ROOT / PDF_DIR
    if own.resolve() != dirs[0].resolve():
        dirs.append(own)
    return dirs


def build_pdf(
    entity: EntitySpec, doc: YamlDoc, root: Path, entities: Mapping[str, EntitySpec]
) -> tuple[PdfSpec | None, list[SpecError]]:
    raw = doc.data.get("pdf") if isinstance(doc.data, dict) else None
    if not isinstance(raw, dict):
        return None, []
    errors: list[SpecError] = []
    names = set(entity.fields) | {c.name for c in entity.children} | set(EXPRESSION_NAMES) | {"id", "status"}
    dirs = template_dirs(root)
    available = sorted({p.name for d in dirs if d.is_dir() for p in d.glob("*.html")})
    templates: dict[str, PdfTemplate] = {}
    for name, item in mapping(raw.get("templates")).items():
        data = mapping(item)
        path = ("pdf", "templates", name)
        file = opt_str(data.get("file")) or ""
        if file and not any((d / file).is_file() for d in dirs):
            errors.append(SpecError(doc.at((*path, "file")), f"template file '{file}' not found in templates/pdf/{did_you_mean(file, available)}"))
        when = opt_str(data.get("when"))
        if when is not None:
            errors.extend(_expression_errors(doc, (*path, "when"), when, names))
        options = dict(mapping(data.get("options")))  # names and values: checked by the JSON Schema
        templates[name] = PdfTemplate(name, file, label_of(data.get("label"), name), when, options)
    facturx = None
    raw_fx = raw.get("facturx")
    if isinstance(raw_fx, dict):
        type_code = opt_str(raw_fx.get("type_code")) or "'380'"
        errors.extend(_expression_errors(doc, ("pdf", "facturx", "type_code"), type_code, names))
        preceding = opt_str(raw_fx.get("preceding"))
        if preceding is not None:
            errors.extend(_link_errors(doc, ("pdf", "facturx", "preceding"), preceding, entity))
        facturx = FacturxSpec(type_code, preceding)
    schedule = opt_str(raw.get("schedule"))
    if schedule is not None:
        errors.extend(_link_errors(doc, ("pdf", "schedule"), schedule, entity))
    bank: list[str] = []
    for index, path_text in enumerate(raw.get("bank") or []):
        if isinstance(path_text, str):
            errors.extend(_bank_errors(doc, ("pdf", "bank", index), path_text, entity, entities))
            bank.append(path_text)
    if not templates:
        errors.append(SpecError(doc.key_at(("pdf",)), "a pdf section needs at least one template under 'templates'"))
    return PdfSpec(templates, facturx, schedule, tuple(bank)), errors


def _expression_errors(doc: YamlDoc, path: tuple[str, ...], source: str, names: set[str]) -> list[SpecError]:
    try:
        compiled = compile_expression(source)
    except ExpressionError as exc:
        return [SpecError(doc.at(path), str(exc))]
    return [
        SpecError(doc.at(path), f"unknown name '{n}' in expression {source!r}{did_you_mean(n, names)}")
        for n in sorted(compiled.names - names)
    ]


def _bank_errors(
    doc: YamlDoc, path: tuple[str | int, ...], text: str, entity: EntitySpec, entities: Mapping[str, EntitySpec]
) -> list[SpecError]:
    link, _, child = text.partition(".")
    found = _link_errors(doc, path, link, entity)  # type: ignore[arg-type]
    if found or not child:
        return found
    target = entities.get(entity.fields[link].to or "")
    children = [c.name for c in target.children] if target is not None else []
    if child not in children:
        where = target.name if target is not None else "?"
        return [SpecError(doc.at(path), f"'{child}' is not a child collection of '{where}'{did_you_mean(child, children)}")]
    return []


def _link_errors(doc: YamlDoc, path: tuple[str | int, ...], name: str, entity: EntitySpec) -> list[SpecError]:
    found = entity.fields.get(name)
    if found is not None and found.is_link:
        return []
    links = [f.name for f in entity.fields.values() if f.is_link]
    return [SpecError(doc.at(path), f"'{name}' is not a link field of '{entity.name}'{did_you_mean(name, links)}")]


def with_pdf_specs(
    entities: Mapping[str, EntitySpec], docs: Mapping[str, YamlDoc], root: Path
) -> tuple[dict[str, EntitySpec], list[SpecError]]:
    """The entities with their `pdf` section attached, and its errors (loader hook)."""
    import dataclasses

    result: dict[str, EntitySpec] = dict(entities)
    errors: list[SpecError] = []
    for name, doc in docs.items():
        entity = entities.get(name)
        if entity is None:
            continue
        pdf, found = build_pdf(entity, doc, root, entities)
        errors.extend(found)
        if pdf is not None:
            result[name] = dataclasses.replace(entity, pdf=pdf)
    return result, errors
