"""What the agenda shows, read straight from the database: the feed of events and tasks in a
date range (per user or everyone) and the statistics by event type over a period (SQL GROUP BY).

The agenda is a page of the shipped configuration: it reads the entities `event` (with its
child collection `participants`) and `task`. Datetimes are naive local times, as stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, literal, or_, select, true
from sqlalchemy.orm import Session

from app.engine.runtime import Runtime
from app.spec.model import Picklist

EVENT = "event"
TASK = "task"
PARTICIPANTS = "participants"  # the event's child collection of other users
DEFAULT_LENGTH = dt.timedelta(hours=1)  # an event without an end lasts one hour
ALL_DAY_LENGTH = dt.timedelta(days=1)  # an all-day event without an end lasts its day
MAX_RANGE = dt.timedelta(days=400)
TASK_COLOUR = "#495057"
TASK_DONE_COLOUR = "#adb5bd"
FALLBACK_COLOUR = "#6c757d"
CANCELLED = "cancelled"  # the event status left out of the statistics


class AgendaInputError(ValueError):
    """A bad query parameter or form field; `field` names it, the message is "fr / en"."""

    def __init__(self, field: str, fr: str, en: str) -> None:
        super().__init__(f"{fr} / {en}")
        self.field = field


# --- parameters ------------------------------------------------------------------------------


def parse_moment(text: str | None, field: str) -> dt.datetime:
    """A date or datetime in ISO 8601 ("2026-12-01", "2026-12-01T09:30", with or without an
    offset, which is dropped: the agenda works in local time as stored)."""
    raw = (text or "").strip()
    if not raw:
        raise AgendaInputError(field, f"« {field} » est obligatoire", f"'{field}' is required")
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return dt.datetime(day.year, day.month, day.day)
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise AgendaInputError(
            field,
            f"« {field} » : date invalide « {raw} » (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)",
            f"'{field}': invalid date '{raw}' (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM)",
        ) from None


def parse_day(text: str | None, field: str) -> dt.date:
    raw = (text or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise AgendaInputError(
            field,
            f"« {field} » : date invalide « {raw} » (attendu AAAA-MM-JJ)",
            f"'{field}': invalid date '{raw}' (expected YYYY-MM-DD)",
        ) from None


def parse_user(text: str | None, me: int | None) -> int | None:
    """`user`: empty or "all" for everyone, "me" for the current user, else a user id."""
    raw = (text or "").strip()
    if raw in ("", "all"):
        return None
    if raw == "me":
        return me
    if raw.isdigit():
        return int(raw)
    raise AgendaInputError("user", f"« user » : utilisateur invalide « {raw} »", f"'user': invalid user '{raw}'")


def check_range(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        raise AgendaInputError("end", "« end » doit être après « start »", "'end' must be after 'start'")
    if end - start > MAX_RANGE:
        raise AgendaInputError("end", "période trop longue (400 jours au plus)", "range too long (400 days at most)")


# --- feed ------------------------------------------------------------------------------------


def _colour(picklist: Picklist | None, code: str | None) -> str:
    value = picklist.value(code) if picklist is not None and code else None
    return value.colour if value is not None and value.colour else FALLBACK_COLOUR


def _label(picklist: Picklist | None, code: str | None) -> str:
    value = picklist.value(code) if picklist is not None and code else None
    return value.label.fr if value is not None else (code or "")


def picklist_of(rt: Runtime, entity: str, field: str) -> Picklist | None:
    spec_field = rt.spec.entities[entity].fields.get(field)
    name = spec_field.picklist if spec_field is not None else None
    return rt.spec.picklists.get(name) if name else None


def effective_end(start: dt.datetime, end: dt.datetime | None, all_day: bool) -> dt.datetime:
    if end is not None and end > start:
        return end
    if all_day:
        day = dt.datetime(start.year, start.month, start.day)
        return day + ALL_DAY_LENGTH
    return start + DEFAULT_LENGTH


def _user_names(rt: Runtime, session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    user = rt.models.cls("user")
    rows = session.execute(select(user.id, user.full_name, user.login).where(user.id.in_(ids)))
    return {int(r[0]): str(r[1] or r[2]) for r in rows}


def _account_names(rt: Runtime, session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    account = rt.models.cls("account")
    return {int(r[0]): str(r[1]) for r in session.execute(select(account.id, account.name).where(account.id.in_(ids)))}


def _event_user_filter(rt: Runtime, user_id: int) -> ColumnElement[bool]:
    event = rt.models.cls(EVENT)
    condition: ColumnElement[bool] = event.assigned_user_id == user_id
    for child in rt.spec.entities[EVENT].children:
        if child.name != PARTICIPANTS:
            continue
        participant = rt.models.cls(child.entity)
        via = getattr(participant, f"{child.via}_id")
        taking_part = select(via).where(participant.user_id == user_id)
        condition = or_(condition, event.id.in_(taking_part))
    return condition


def event_items(
    rt: Runtime, session: Session, start: dt.datetime, end: dt.datetime, user_id: int | None
) -> list[dict[str, Any]]:
    """Events overlapping [start, end), as FullCalendar event objects."""
    event = rt.models.cls(EVENT)
    overlaps = and_(
        event.start < end,
        or_(
            event.end > start,
            # no end (or a wrong one): candidates, checked exactly below
            and_(or_(event.end.is_(None), event.end <= event.start), event.start > start - ALL_DAY_LENGTH),
        ),
    )
    query = select(event).where(overlaps).order_by(event.start, event.id)
    if user_id is not None:
        query = query.where(_event_user_filter(rt, user_id))
    rows = [r for r in session.scalars(query) if effective_end(r.start, r.end, bool(r.all_day)) > start]
    types, statuses = picklist_of(rt, EVENT, "type"), picklist_of(rt, EVENT, "status")
    users = _user_names(rt, session, {r.assigned_user_id for r in rows if r.assigned_user_id})
    accounts = _account_names(rt, session, {r.account_id for r in rows if r.account_id})
    items = []
    for r in rows:
        all_day = bool(r.all_day)
        finish = effective_end(r.start, r.end, all_day)
        colour = _colour(types, r.type)
        items.append(
            {
                "id": f"event-{r.id}",
                "title": r.title,
                "start": (r.start.date() if all_day else r.start).isoformat(),
                "end": (finish.date() if all_day else finish).isoformat(),
                "allDay": all_day,
                "url": f"/admin/event/details/{r.id}",
                "backgroundColor": colour,
                "borderColor": colour,
                "classNames": ["agenda-event", f"agenda-type-{r.type}", f"agenda-status-{r.status}"],
                "extendedProps": {
                    "kind": "event",
                    "record_id": r.id,
                    "type": r.type,
                    "type_label": _label(types, r.type),
                    "status": r.status,
                    "status_label": _label(statuses, r.status),
                    "user_id": r.assigned_user_id,
                    "user": users.get(r.assigned_user_id, ""),
                    "account": accounts.get(r.account_id, ""),
                    "location": r.location or "",
                },
            }
        )
    return items


def task_items(
    rt: Runtime, session: Session, start: dt.datetime, end: dt.datetime, user_id: int | None
) -> list[dict[str, Any]]:
    """Tasks due in [start, end), each as an all-day item on its due date."""
    task = rt.models.cls(TASK)
    first = start.date() if start.time() == dt.time(0) else start.date() + dt.timedelta(days=1)
    last = end.date() if end.time() != dt.time(0) else end.date() - dt.timedelta(days=1)
    query = select(task).where(task.due_date >= first, task.due_date <= last).order_by(task.due_date, task.id)
    if user_id is not None:
        query = query.where(task.assigned_user_id == user_id)
    rows = list(session.scalars(query))
    users = _user_names(rt, session, {r.assigned_user_id for r in rows if r.assigned_user_id})
    accounts = _account_names(rt, session, {r.account_id for r in rows if r.account_id})
    items = []
    for r in rows:
        done = bool(r.done)
        colour = TASK_DONE_COLOUR if done else TASK_COLOUR
        items.append(
            {
                "id": f"task-{r.id}",
                "title": ("✓ " if done else "☐ ") + r.title,
                "start": r.due_date.isoformat(),
                "allDay": True,
                "url": f"/admin/task/details/{r.id}",
                "backgroundColor": colour,
                "borderColor": colour,
                "classNames": ["agenda-task"] + (["agenda-task-done"] if done else []),
                "extendedProps": {
                    "kind": "task",
                    "record_id": r.id,
                    "done": done,
                    "user_id": r.assigned_user_id,
                    "user": users.get(r.assigned_user_id, ""),
                    "account": accounts.get(r.account_id, ""),
                },
            }
        )
    return items


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatRow:
    type: str
    label: str
    colour: str
    count: int
    minutes: int
    user_id: int | None = None
    user: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "label": self.label, "count": self.count, "minutes": self.minutes}
        if self.user_id is not None or self.user:
            data = {"user_id": self.user_id, "user": self.user, **data}
        return data


def _minutes(rt: Runtime, session: Session) -> ColumnElement[Any]:
    """The length of an event in minutes, in SQL: all-day events count none, an event without
    an end (or ending before it starts) one hour."""
    event = rt.models.cls(EVENT)
    if session.get_bind().dialect.name == "sqlite":
        span: ColumnElement[Any] = (func.julianday(event.end) - func.julianday(event.start)) * 1440
    else:
        span = extract("epoch", event.end - event.start) / 60
    return case(
        (event.all_day == true(), literal(0)),
        (or_(event.end.is_(None), event.end <= event.start), literal(60)),
        else_=span,
    )


def _whole_minutes(value: Any) -> int:
    return int(Decimal(str(value or 0)).quantize(Decimal("1")))


def statistics(
    rt: Runtime, session: Session, first: dt.date, last: dt.date, user_id: int | None
) -> dict[str, Any]:
    """Events (not cancelled) starting from `first` to `last` included: count and total minutes
    per type, and per owner (`assigned_user`) and type."""
    if last < first:
        raise AgendaInputError("to", "« to » doit être après « from »", "'to' must not be before 'from'")
    event = rt.models.cls(EVENT)
    begin = dt.datetime(first.year, first.month, first.day)
    stop = dt.datetime(last.year, last.month, last.day) + dt.timedelta(days=1)
    minutes = func.sum(_minutes(rt, session))
    conditions = [event.start >= begin, event.start < stop, or_(event.status.is_(None), event.status != CANCELLED)]
    if user_id is not None:
        conditions.append(event.assigned_user_id == user_id)
    types = picklist_of(rt, EVENT, "type")
    order = {v.code: i for i, v in enumerate(types.values)} if types is not None else {}

    by_type_rows = session.execute(
        select(event.type, func.count(event.id), minutes).where(*conditions).group_by(event.type)
    ).all()
    by_type = sorted(
        (StatRow(t, _label(types, t), _colour(types, t), int(n), _whole_minutes(m)) for t, n, m in by_type_rows),
        key=lambda s: (order.get(s.type, len(order)), s.type),
    )
    by_user_rows = session.execute(
        select(event.assigned_user_id, event.type, func.count(event.id), minutes)
        .where(*conditions)
        .group_by(event.assigned_user_id, event.type)
    ).all()
    names = _user_names(rt, session, {int(u) for u, *_ in by_user_rows if u is not None})
    by_user = sorted(
        (
            StatRow(t, _label(types, t), _colour(types, t), int(n), _whole_minutes(m), u, names.get(u, "") if u else "")
            for u, t, n, m in by_user_rows
        ),
        key=lambda s: (s.user or "~", order.get(s.type, len(order)), s.type),
    )
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "user": user_id,
        "total": {"count": sum(s.count for s in by_type), "minutes": sum(s.minutes for s in by_type)},
        "by_type": by_type,
        "by_user": by_user,
    }


def statistics_json(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        **stats,
        "by_type": [s.as_json() for s in stats["by_type"]],
        "by_user": [s.as_json() for s in stats["by_user"]],
    }


def users_for_selector(rt: Runtime, session: Session) -> list[tuple[int, str]]:
    """Active internal users, by name, for the agenda's user selector."""
    user = rt.models.cls("user")
    query = select(user.id, user.full_name, user.login).order_by(func.coalesce(user.full_name, user.login))
    if hasattr(user, "active"):
        query = query.where(or_(user.active == true(), user.active.is_(None)))
    if hasattr(user, "kind"):
        query = query.where(or_(user.kind != "external", user.kind.is_(None)))
    return [(int(r[0]), str(r[1] or r[2])) for r in session.execute(query)]


__all__ = [
    "AgendaInputError",
    "check_range",
    "event_items",
    "parse_day",
    "parse_moment",
    "parse_user",
    "statistics",
    "statistics_json",
    "task_items",
    "users_for_selector",
]
