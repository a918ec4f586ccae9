"""Many records in one transaction: `create_many` and `run_transition_many`.

The same rules as one record at a time (the Store's parsing, defaults, checks and computes;
the workflow's state, rights, conditions, effects, log and audit), all or nothing: the first
refusal rolls everything back and names the record at fault (`records[3].lines[0].quantity`,
or the record's title for a transition). Used by the API (`POST /api/v1/{entity}/batch`,
`POST /api/v1/{entity}/actions/{name}` with `{"ids": [...]}`), the admin's actions on a
selection, and bench/validate_invoices.py.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from app.engine.models import Record
from app.engine.store import Store, StoreError
from app.engine.workflow import TransitionResult, run_transition

MAX_BATCH = 10_000


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _check_size(count: int) -> None:
    if count > MAX_BATCH:
        raise StoreError(
            413,
            "batch_too_large",
            _m(f"au plus {MAX_BATCH} enregistrements à la fois ({count} reçus)", f"at most {MAX_BATCH} records at once ({count} given)"),
        )


def create_many(store: Store, entity_name: str, rows: Sequence[Mapping[str, Any]]) -> list[Record]:
    """Create every row of `rows` (as Store.create would), in the store's transaction."""
    _check_size(len(rows))
    created = []
    for index, data in enumerate(rows):
        try:
            created.append(store.create(entity_name, data))
        except StoreError as exc:
            exc.field = f"records[{index}].{exc.field}" if exc.field else f"records[{index}]"
            store.session.rollback()
            raise
    return created


def run_transition_many(
    store: Store, entity_name: str, record_ids: Sequence[Any], name: str, params: Mapping[str, Any] | None = None
) -> list[TransitionResult]:
    """Run the transition `name` on every record, in order, in the store's transaction."""
    _check_size(len(record_ids))
    return [run_transition(store, entity_name, record_id, name, params) for record_id in record_ids]
