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
from app.engine.store import NewRecord, Store, StoreError
from app.engine.workflow import TransitionResult
from app.engine.workflow import run_transition_many as workflow_run_many

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
    return store.create_many(entity_name, [NewRecord(data) for data in rows])


def run_transition_many(
    store: Store, entity_name: str, record_ids: Sequence[Any], name: str, params: Mapping[str, Any] | None = None
) -> list[TransitionResult]:
    """Run the transition `name` on every record, in the store's transaction; a refusal names
    the record (its message starts with it, `field` is `ids[i]`) and changes nothing."""
    _check_size(len(record_ids))
    return workflow_run_many(store, entity_name, list(record_ids), name, params)
