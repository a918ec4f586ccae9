"""SQLAlchemy tables and mapped classes built from the spec at start-up.

Every entity becomes a table of the same name with the system columns (id, created/updated
at and by, version) and one column per field; a link `account` is stored in `account_id` with
a relationship `account`. Links, filters, sort and search-free unique columns are indexed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry as orm_registry
from sqlalchemy.orm import relationship

from app.engine.fieldtypes import FIELD_TYPES
from app.spec.model import AppSpec, EntitySpec, FieldSpec

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

UNINDEXABLE = ("multichoice", "text", "password")
COUNTER_TABLE = "comptoir_counter"
TOKEN_TABLE = "comptoir_api_token"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Record:
    """Base of every generated class; `__entity__` is its EntitySpec."""

    __entity__: EntitySpec
    id: int
    version: int

    def __str__(self) -> str:
        title = getattr(self, self.__entity__.title, None)
        return str(title) if title not in (None, "") else f"{self.__entity__.label.fr} #{self.id}"


@dataclass
class Models:
    """The built tables and classes, by entity name."""

    metadata: MetaData
    classes: dict[str, type[Record]]
    tables: dict[str, Table]
    counters: Table
    tokens: Table

    def cls(self, entity: str) -> type[Record]:
        return self.classes[entity]


def _indexed_fields(entity: EntitySpec) -> set[str]:
    names = {f.name for f in entity.fields.values() if f.index or f.is_link}
    names.update(entity.list.filters)
    if entity.list.sort:
        names.add(entity.list.sort.lstrip("-"))
    # JSON lists and long texts have no useful B-tree index (PostgreSQL refuses one on JSON)
    return {n for n in names if n in entity.fields and entity.fields[n].type not in UNINDEXABLE}


def _column(field: FieldSpec) -> Column[Any]:
    if field.is_link:
        return Column(
            field.column_name,
            Integer,
            ForeignKey(f"{field.to}.id", ondelete="RESTRICT", use_alter=True),
            nullable=True,
        )
    return Column(
        field.name,
        FIELD_TYPES[field.type].column(field),
        nullable=True,  # "required" is enforced by the store with a clear message
    )


def build_tables(spec: AppSpec) -> tuple[MetaData, dict[str, Table], Table, Table]:
    metadata = MetaData(naming_convention=NAMING)
    tables: dict[str, Table] = {}
    for entity in spec.entities.values():
        indexed = _indexed_fields(entity)
        columns: list[Any] = [
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("created_at", DateTime, nullable=False, default=_utcnow),
            Column("updated_at", DateTime, nullable=False, default=_utcnow, onupdate=_utcnow, index=True),
            Column("created_by", String(100), nullable=True),
            Column("updated_by", String(100), nullable=True),
            Column("version", Integer, nullable=False, default=1),
        ]
        columns.extend(_column(f) for f in entity.fields.values())
        # Indexes end with the id: lists sort by (column, id) so that pages are stable, and
        # one index scan then serves the sort without a full sort of the table.
        extras: list[Any] = [
            Index(f"ix_{entity.name}_{f.column_name}", f.column_name, "id")
            for f in entity.fields.values()
            if f.name in indexed and not f.unique
        ]
        extras += [
            UniqueConstraint(f.column_name, name=f"uq_{entity.name}_{f.column_name}")
            for f in entity.fields.values()
            if f.unique
        ]
        tables[entity.name] = Table(entity.name, metadata, *columns, *extras)
    counters = Table(
        COUNTER_TABLE,
        metadata,
        Column("key", String(200), primary_key=True),
        Column("value", Integer, nullable=False),
    )
    tokens = Table(
        TOKEN_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("created_at", DateTime, nullable=False, default=_utcnow),
    )
    return metadata, tables, counters, tokens


def build_models(spec: AppSpec) -> Models:
    metadata, tables, counters, tokens = build_tables(spec)
    reg = orm_registry(metadata=metadata)
    classes: dict[str, type[Record]] = {}
    for entity in spec.entities.values():
        cls = type(_class_name(entity.name), (Record,), {"__entity__": entity})
        classes[entity.name] = cls
    for entity in spec.entities.values():
        table = tables[entity.name]
        properties: dict[str, Any] = {}
        for f in entity.fields.values():
            if f.is_link:
                target = classes[f.to or ""]
                properties[f.name] = relationship(
                    target,
                    foreign_keys=[table.c[f.column_name]],
                    # always many-to-one; without it a link to the same entity would be read as
                    # one-to-many, and deleting a record would null its referrers' links
                    remote_side=[tables[f.to or ""].c.id],
                    lazy="select",
                    viewonly=False,
                )
        reg.map_imperatively(
            classes[entity.name],
            table,
            properties=properties,
            version_id_col=table.c.version,
        )
    return Models(metadata=metadata, classes=classes, tables=tables, counters=counters, tokens=tokens)


def _class_name(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_")) or "Entity"


def index_names(models: Models) -> list[Index]:
    return [ix for t in models.tables.values() for ix in t.indexes]
