"""The follow-up log of records and the users' own mail templates: two generic tables.

`comptoir_follow_up` holds one row per step done on a record (any entity with a `follow_up:`
in workflows.yaml): automatic entries written by the `record_follow_up` verb or the dunning
job, manual ones from the admin page and the API. `comptoir_follow_up_template` holds a user's
own subject and body for a step, used instead of the configured template file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, and_, select
from sqlalchemy.orm import Session

from app.spec.followup import FollowUpSpec
from app.spec.model import AppSpec

FOLLOW_UP_TABLE = "comptoir_follow_up"
TEMPLATE_TABLE = "comptoir_follow_up_template"
KINDS = ("auto", "manual")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def build_follow_up_tables(metadata: MetaData) -> dict[str, Table]:
    log = Table(
        FOLLOW_UP_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("entity", String(100), nullable=False),
        Column("record_id", Integer, nullable=False),
        Column("step", String(100), nullable=False),
        Column("on", Date, nullable=False),  # the day the step was done (today(), or the job's day)
        Column("at", DateTime, nullable=False, default=_utcnow),
        Column("kind", String(10), nullable=False),  # auto / manual
        Column("note", Text, nullable=True),
        Column("login", String(100), nullable=True),
        Column("message_id", String(250), nullable=True),
        Column("recipients", Text, nullable=True),  # comma-separated
        # covering the scan's join: one index range per record (app/engine/followup_scan.py)
        Index(f"ix_{FOLLOW_UP_TABLE}_record", "entity", "record_id", "step", "on"),
    )
    templates = Table(
        TEMPLATE_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("login", String(100), nullable=False),
        Column("entity", String(100), nullable=False),
        Column("step", String(100), nullable=False),
        Column("subject", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("updated_at", DateTime, nullable=False, default=_utcnow, onupdate=_utcnow),
        UniqueConstraint("login", "entity", "step", name=f"uq_{TEMPLATE_TABLE}_login"),
    )
    return {FOLLOW_UP_TABLE: log, TEMPLATE_TABLE: templates}


def follow_up_of(spec: AppSpec, entity: str) -> FollowUpSpec | None:
    workflow = spec.workflows.get(entity)
    follow_up = getattr(workflow, "follow_up", None)
    return follow_up if isinstance(follow_up, FollowUpSpec) else None


def followed_entities(spec: AppSpec) -> list[FollowUpSpec]:
    return [f for name in spec.workflows if (f := follow_up_of(spec, name)) is not None]


def log_table(metadata: MetaData) -> Table:
    return metadata.tables[FOLLOW_UP_TABLE]


def template_table(metadata: MetaData) -> Table:
    return metadata.tables[TEMPLATE_TABLE]


@dataclass(frozen=True)
class LogEntry:
    id: int
    step: str
    on: dt.date
    kind: str
    note: str | None
    login: str | None
    message_id: str | None
    recipients: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "step": self.step, "date": self.on.isoformat(), "kind": self.kind, "note": self.note,
            "user": self.login, "message_id": self.message_id, "recipients": list(self.recipients),
        }


def record_step(
    session: Session, metadata: MetaData, *, entity: str, record_id: int, step: str, on: dt.date, kind: str,
    login: str | None, note: str | None = None, message_id: str | None = None, recipients: tuple[str, ...] = (),
) -> int:
    table = log_table(metadata)
    result = session.execute(table.insert().values(
        entity=entity, record_id=record_id, step=step, on=on, kind=kind, note=note or None, login=login,
        message_id=message_id, recipients=", ".join(recipients) or None,
    ))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def has_step(session: Session, metadata: MetaData, entity: str, record_id: int, step: str) -> bool:
    table = log_table(metadata)
    query = select(table.c.id).where(and_(table.c.entity == entity, table.c.record_id == record_id, table.c.step == step)).limit(1)
    return session.execute(query).first() is not None


def entries(session: Session, metadata: MetaData, entity: str, record_id: int) -> list[LogEntry]:
    table = log_table(metadata)
    query = select(table).where(and_(table.c.entity == entity, table.c.record_id == record_id)).order_by(table.c.on, table.c.id)
    return [
        LogEntry(
            id=row.id, step=row.step, on=row.on, kind=row.kind, note=row.note, login=row.login, message_id=row.message_id,
            recipients=tuple(a.strip() for a in (row.recipients or "").split(",") if a.strip()),
        )
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class UserTemplate:
    subject: str
    body: str


def user_template(session: Session, metadata: MetaData, login: str, entity: str, step: str) -> UserTemplate | None:
    table = template_table(metadata)
    row = session.execute(select(table.c.subject, table.c.body).where(
        and_(table.c.login == login, table.c.entity == entity, table.c.step == step)
    )).first()
    return UserTemplate(row.subject, row.body) if row is not None else None


def save_user_template(session: Session, metadata: MetaData, login: str, entity: str, step: str, subject: str | None, body: str | None) -> None:
    """Store (or, with an empty body, remove) a user's own template of a step."""
    table = template_table(metadata)
    where = and_(table.c.login == login, table.c.entity == entity, table.c.step == step)
    session.execute(table.delete().where(where))
    if body and body.strip():
        session.execute(table.insert().values(login=login, entity=entity, step=step, subject=(subject or "").strip(), body=body))
