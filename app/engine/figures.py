"""Key figures of a record (totals, VAT per rate, margin…), from pluggable providers.

The engine knows no document by name: a *figure provider* decides whether a record has figures
and computes them. Providers are registered by business modules (app/verbs/ registers the
document totals and the margin, found by an entity's `document_totals` compute), and the
admin pages (details, edit, create, live preview) and the API (GET /api/v1/{entity}/{id}/figures)
show whatever the providers answer, in registration order.

Adding figures — e.g. the client's outstanding amount ("encours") on documents and accounts —
is one function and one call, with no change to the engine, the admin or the API:

    from app.engine.figures import Figure, FigureGroup, FigureSubject, register_figures
    from app.spec.model import Label

    def outstanding(subject: FigureSubject) -> list[FigureGroup] | None:
        account_id = subject.value("account")          # None when the entity has no `account`
        if account_id is None:
            return None                                 # not for this record: no group
        amount = ...                                    # query through subject.store
        return [FigureGroup("outstanding", Label("Encours client", "Client outstanding"),
                            (Figure("outstanding", Label("Encours", "Outstanding"), amount),))]

    register_figures(outstanding)                       # e.g. in app/verbs/__init__.py

A provider receives a FigureSubject: the Store (session, rights), the entity, the record and,
in a live preview, the unsaved record and child rows built from the form being edited
(`subject.preview` is then True, `subject.record.id` may be None, and `subject.rows(name)`
answers the rows typed so far). A provider answers None (or []) when the record is not its
business. Amounts are Decimal; they travel in JSON as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

from app.spec.model import EntitySpec, Label

if TYPE_CHECKING:
    from app.engine.models import Record
    from app.engine.store import Store

FigureKind = Literal["money", "percent", "number", "text"]


@dataclass(frozen=True)
class Column:
    """An extra column of a group drawn as a table (e.g. the base and rate of a VAT row)."""

    key: str
    label: Label
    kind: FigureKind = "money"


@dataclass(frozen=True)
class Figure:
    """One figure: `value` is a Decimal for numbers (None: not computable), a str for text."""

    key: str
    label: Label
    value: Decimal | str | None
    kind: FigureKind = "money"
    details: Mapping[str, Decimal | None] = field(default_factory=dict, hash=False)
    emphasis: bool = False  # drawn in bold (the total due…)


@dataclass(frozen=True)
class FigureGroup:
    key: str
    label: Label
    figures: tuple[Figure, ...]
    columns: tuple[Column, ...] = ()  # when set, drawn as a table: columns, then the value
    value_label: Label | None = None  # the value's column header in a table


@dataclass
class FigureSubject:
    """What a provider computes on (see the module docstring)."""

    store: Store
    entity: EntitySpec
    record: Record
    children: Mapping[str, list[Any]] | None = None  # preview: the rows of the form
    preview: bool = False

    def rows(self, child_name: str) -> list[Any]:
        """The rows of a child collection: the form's in a preview, else the stored ones."""
        if self.children is not None:
            return list(self.children.get(child_name, []))
        if getattr(self.record, "id", None) is None:
            return []
        return self.store.children(self.entity, self.record)[child_name]

    def value(self, field_name: str) -> Any:
        """A field's value (a link: the target's id), None when the entity has no such field."""
        spec = self.entity.fields.get(field_name)
        return None if spec is None else getattr(self.record, spec.column_name, None)


FigureProvider = Callable[[FigureSubject], "list[FigureGroup] | None"]

_PROVIDERS: list[FigureProvider] = []


def register_figures(fn: FigureProvider) -> FigureProvider:
    """Add a provider (once: registering the same function again changes nothing)."""
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def providers() -> tuple[FigureProvider, ...]:
    from app.engine.verbs import load_plugins

    load_plugins()  # the business modules register their providers when imported
    return tuple(_PROVIDERS)


def figures_of(subject: FigureSubject) -> list[FigureGroup]:
    """Every provider's groups for the subject, in registration order."""
    groups: list[FigureGroup] = []
    for provider in providers():
        groups.extend(provider(subject) or [])
    return groups


# --- JSON ------------------------------------------------------------------------------------


def _json_value(value: Decimal | str | None) -> str | None:
    if value is None:
        return None
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _label(label: Label) -> dict[str, str]:
    return {"fr": label.fr, "en": label.en}


def figures_json(groups: list[FigureGroup]) -> list[dict[str, Any]]:
    """The groups as the API sends them: amounts as decimal strings ("2.48"), never floats."""
    return [
        {
            "key": group.key,
            "label": _label(group.label),
            "columns": [{"key": c.key, "label": _label(c.label), "kind": c.kind} for c in group.columns],
            "value_label": _label(group.value_label) if group.value_label is not None else None,
            "figures": [
                {
                    "key": figure.key,
                    "label": _label(figure.label),
                    "kind": figure.kind,
                    "value": _json_value(figure.value),
                    "details": {k: _json_value(v) for k, v in figure.details.items()},
                }
                for figure in group.figures
            ],
        }
        for group in groups
    ]
