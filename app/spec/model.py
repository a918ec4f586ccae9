"""Typed, read-only objects describing a validated configuration.

The loader (app/spec/loader.py) builds these from the YAML files after validating them;
everything downstream (engine, web, documents) reads only these objects, never YAML.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from app.spec.files import FilesSpec
    from app.spec.list_rules import ColourRule, SavedFilterSpec
    from app.spec.jobs import JobSpec
    from app.spec.workflow_model import ComputeSpec, WorkflowSpec

# Every field type of the YAML language. The engine maps each one to a column type,
# a form field, a validator and a JSON schema type (app/engine/fieldtypes.py).
FIELD_TYPES: tuple[str, ...] = (
    "string",
    "text",
    "integer",
    "decimal",
    "money",
    "percent",
    "date",
    "datetime",
    "boolean",
    "choice",
    "multichoice",
    "link",
    "email",
    "phone",
    "url",
    "iban",
    "bic",
    "siren",
    "siret",
    "vat_number",
    "file",
    "image",
    "password",
    "status",
)

# Rights every entity has; workflow transitions add their own names later.
BASE_ACTIONS: tuple[str, ...] = ("read", "create", "edit", "delete")

# Columns the engine adds to every table; a field may not use these names.
SYSTEM_COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "version",
)


@dataclass(frozen=True)
class Location:
    """Where a node came from: path relative to the config dir, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Label:
    fr: str
    en: str

    def get(self, lang: str = "fr") -> str:
        return self.en if lang == "en" else self.fr


@dataclass(frozen=True)
class PicklistValue:
    code: str
    label: Label
    colour: str | None = None
    order: int = 0
    active: bool = True


@dataclass(frozen=True)
class Picklist:
    name: str
    label: Label
    values: tuple[PicklistValue, ...]
    location: Location | None = None

    def codes(self, *, active_only: bool = False) -> list[str]:
        return [v.code for v in self.values if v.active or not active_only]

    def value(self, code: str) -> PicklistValue | None:
        for v in self.values:
            if v.code == code:
                return v
        return None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: Label
    required: bool = False
    default: str | None = None  # a Jinja2 expression, e.g. "today() + days(30)"
    unique: bool = False
    readonly: bool = False
    help: Label | None = None
    min: Any = None  # number for numeric types, ISO date string for dates
    max: Any = None
    length: int | None = None  # max length for string-like types
    scale: int | None = None  # decimals for decimal (money is always 2)
    index: bool = False
    picklist: str | None = None  # for choice / multichoice
    to: str | None = None  # target entity for link
    location: Location | None = None
    frozen: bool = False  # may be given on creation, never changed afterwards (e.g. a currency)
    # for link: {field of the linked record: field of this record} that must be equal,
    # e.g. {account: account}: the linked contact belongs to this document's client
    match: Mapping[str, str] = field(default_factory=dict, hash=False)

    # cached (written in the instance's __dict__, which a frozen dataclass allows): the engine
    # reads them for every field of every record it handles
    @cached_property
    def is_link(self) -> bool:
        return self.type == "link"

    @cached_property
    def column_name(self) -> str:
        """Database column: links are stored as `<name>_id`."""
        return f"{self.name}_id" if self.type == "link" else self.name

    @cached_property
    def number_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """`min` and `max` as numbers (None where not given)."""
        return tuple(None if b is None else Decimal(str(b)) for b in (self.min, self.max))  # type: ignore[return-value]

    @cached_property
    def date_bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """`min` and `max` as dates (ISO text in the YAML; None where not given)."""
        return tuple(None if b is None else dt.date.fromisoformat(str(b)) for b in (self.min, self.max))  # type: ignore[return-value]


@dataclass(frozen=True)
class ListSpec:
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    sort: str | None = None  # field name, "-field" for descending
    page_size: int = 25
    colours: tuple[ColourRule, ...] = ()  # row colours, first matching rule wins (list_rules.py)
    saved_filters: tuple[SavedFilterSpec, ...] = ()  # shipped filters (list_rules.py)
    columns_given: bool = False  # `columns` written in the YAML (else the title alone)


@dataclass(frozen=True)
class FormSection:
    label: Label
    fields: tuple[str, ...]


@dataclass(frozen=True)
class FormSpec:
    kind: str  # "sections" or "tabs"
    sections: tuple[FormSection, ...]


@dataclass(frozen=True)
class ChildSpec:
    """A child collection edited on the parent's page (e.g. a document's lines)."""

    name: str  # collection name on the parent, e.g. "lines"
    entity: str  # child entity, e.g. "quote_line"
    via: str  # link field on the child pointing to the parent, e.g. "quote"
    label: Label
    order_by: str | None = None  # field of the child used for ordering, e.g. "position"
    location: Location | None = None


@dataclass(frozen=True)
class NumberingSpec:
    """A code given on creation, e.g. customer code `CU{yy}{mm}-{0000}`."""

    field: str
    pattern: str
    location: Location | None = None


@dataclass(frozen=True)
class EntitySpec:
    name: str
    label: Label
    plural: Label
    fields: Mapping[str, FieldSpec]  # in declaration order
    title: str  # field shown as the record's name
    list: ListSpec
    form: FormSpec | None = None
    children: tuple[ChildSpec, ...] = ()
    numbering: tuple[NumberingSpec, ...] = ()
    embedded: bool = False  # only edited inside a parent (no menu entry)
    icon: str | None = None
    category: Label | None = None  # menu group
    computes: tuple[ComputeSpec, ...] = ()  # verbs run on every save (e.g. document totals)
    file: str = ""  # e.g. "schema/account.yaml"
    location: Location | None = None
    pdf: Any = None  # app.spec.pdf_templates.PdfSpec: the `pdf:` section (printable templates)

    def field(self, name: str) -> FieldSpec:
        return self.fields[name]

    # What the store goes through for every record it creates, found once.
    @cached_property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        """Required fields, but those a numbering fills."""
        numbered = {n.field for n in self.numbering}
        return tuple(f for f in self.fields.values() if f.required and f.name not in numbered)

    @cached_property
    def defaulted_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields.values() if f.default is not None)

    @cached_property
    def columns(self) -> Mapping[str, str]:
        """Each field's column (passwords too), by field name."""
        return {f.name: f.column_name for f in self.fields.values()}

    @cached_property
    def matched_links(self) -> tuple[FieldSpec, ...]:
        """Link fields whose linked record must agree with this one (`match`)."""
        return tuple(f for f in self.fields.values() if f.is_link and f.match)


@dataclass(frozen=True)
class GroupSpec:
    name: str
    label: Label
    # entity name (or "*") -> allowed actions (or ("*",) for all)
    rights: Mapping[str, tuple[str, ...]]
    location: Location | None = None

    def allows(self, entity: str, action: str) -> bool:
        for key in (entity, "*"):
            actions = self.rights.get(key, ())
            if action in actions or "*" in actions:
                return True
        return False


@dataclass(frozen=True)
class AppSpec:
    """The whole validated configuration."""

    root: Path
    entities: Mapping[str, EntitySpec]
    picklists: Mapping[str, Picklist]
    groups: Mapping[str, GroupSpec]
    # entity name -> its state machine (workflows.yaml)
    workflows: Mapping[str, WorkflowSpec] = field(default_factory=dict)
    # the document area's settings (files.yaml, app/spec/files.py)
    files: FilesSpec = field(default_factory=lambda: _default_files())
    # job name -> its scheduled job (`jobs:` of workflows.yaml, app/spec/jobs.py)
    jobs: Mapping[str, JobSpec] = field(default_factory=dict)

    def entity(self, name: str) -> EntitySpec:
        return self.entities[name]


def _default_files() -> FilesSpec:
    from app.spec.files import FilesSpec

    return FilesSpec()
