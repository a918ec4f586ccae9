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
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
LINK_TABLE = "comptoir_link"  # documents linked by conversions, both ways
AUDIT_TABLE = "comptoir_audit"  # append-only, hash-chained (app/engine/audit.py)
LOG_TABLE = "comptoir_log"  # what happened to a record: transitions and their messages


def utcnow() -> dt.datetime:
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
    system: dict[str, Table]  # LINK_TABLE, AUDIT_TABLE, LOG_TABLE

    @property
    def links(self) -> Table:
        return self.system[LINK_TABLE]

    @property
    def audit(self) -> Table:
        return self.system[AUDIT_TABLE]

    @property
    def log(self) -> Table:
        return self.system[LOG_TABLE]

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
            Column("created_at", DateTime, nullable=False, default=utcnow),
            Column("updated_at", DateTime, nullable=False, default=utcnow, onupdate=utcnow, index=True),
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
        # the last date numbered in this series: a later number may not carry an earlier date
        Column("last_date", Date, nullable=True),
    )
    tokens = Table(
        TOKEN_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("created_at", DateTime, nullable=False, default=utcnow),
    )
    return metadata, tables, counters, tokens


def build_system_tables(metadata: MetaData) -> dict[str, Table]:
    links = Table(
        LINK_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("source_entity", String(100), nullable=False),
        Column("source_id", Integer, nullable=False),
        Column("target_entity", String(100), nullable=False),
        Column("target_id", Integer, nullable=False),
        Column("kind", String(20), nullable=False),  # "child": target made from source; "parent"
        Column("transition", String(100), nullable=True),
        Column("created_at", DateTime, nullable=False, default=utcnow),
        Index(f"ix_{LINK_TABLE}_source", "source_entity", "source_id", "id"),
    )
    audit = Table(
        AUDIT_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3… no gap
        Column("at", DateTime, nullable=False),
        Column("entity", String(100), nullable=False),
        Column("record_id", Integer, nullable=False),
        Column("event", String(100), nullable=False),
        Column("payload", Text, nullable=False),  # canonical JSON
        Column("snapshot_hash", String(64), nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Index(f"ix_{AUDIT_TABLE}_record", "entity", "record_id", "id"),
    )
    log = Table(
        LOG_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime, nullable=False, default=utcnow),
        Column("entity", String(100), nullable=False),
        Column("record_id", Integer, nullable=False),
        Column("login", String(100), nullable=True),
        Column("transition", String(100), nullable=True),
        Column("from_state", String(50), nullable=True),
        Column("to_state", String(50), nullable=True),
        Column("message", JSON, nullable=True),  # {"fr": ..., "en": ...}
        Index(f"ix_{LOG_TABLE}_record", "entity", "record_id", "id"),
    )
    from app.engine.followup import build_follow_up_tables
    from app.engine.saved_filters import SAVED_FILTER_TABLE, saved_filter_table

    return {
        LINK_TABLE: links,
        AUDIT_TABLE: audit,
        LOG_TABLE: log,
        SAVED_FILTER_TABLE: saved_filter_table(metadata),
        # the follow-up log and the users' own mail templates (app/engine/followup.py)
        **build_follow_up_tables(metadata),
    }


def build_models(spec: AppSpec) -> Models:
    from app.engine.jobs import add_job_tables

    metadata, tables, counters, tokens = build_tables(spec)
    system = build_system_tables(metadata)
    from app.engine.files import FILE_TABLE, build_file_table  # the document area (app/engine/files.py)

    system[FILE_TABLE] = build_file_table(metadata)
    add_job_tables(metadata)  # the scheduler's schedule, runs and lease (app/engine/jobs.py)
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
    reg.configure()  # now rather than on first use (records are also made without __init__)
    models = Models(metadata=metadata, classes=classes, tables=tables, counters=counters, tokens=tokens, system=system)
    from app.engine.guard import install_guard
    from app.engine.workflow import compile_workflows

    compile_workflows(spec, models)  # conditions compiled once, each class knows its machine
    install_guard(models)
    return models


def _class_name(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_")) or "Entity"


def index_names(models: Models) -> list[Index]:
    return [ix for t in models.tables.values() for ix in t.indexes]
