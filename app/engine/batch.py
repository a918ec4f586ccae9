"""Many records in one transaction: `create_many` and `run_transition_many`.

The same rules as one record at a time (the Store's parsing, defaults, checks and computes;
the workflow's state, rights, conditions, effects, log and audit), all or nothing: the first
refusal rolls everything back and names the record at fault (`records[3].lines[0].quantity`,
or the record's title for a transition). Used by the API (`POST /api/v1/{entity}/batch`,
`POST /api/v1/{entity}/actions/{name}` with `{"ids": [...]}`), the admin's actions on a
selection, and bench/validate_invoices.py.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

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


@contextmanager
def collected_at_the_end() -> Iterator[None]:
    """No garbage collection while a batch runs, one at its end.

    A batch allocates many objects that live until it ends (its records and rows, held by the
    session); the collector's automatic passes, triggered by allocations, would walk them again
    and again — on 1,000 invoices, several full passes over all of them. Paused, it collects
    once when the batch is over what the batch allocated (all of it is still in the youngest
    generation), and the batch pays for its garbage there."""
    if not gc.isenabled():  # paused already (a batch in a batch) or by the program: left so
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def create_many(store: Store, entity_name: str, rows: Sequence[Mapping[str, Any]]) -> list[Record]:
    """Create every row of `rows` (as Store.create would), in the store's transaction."""
    _check_size(len(rows))
    with collected_at_the_end():
        return store.create_many(entity_name, [NewRecord(data) for data in rows])


def run_transition_many(
    store: Store, entity_name: str, record_ids: Sequence[Any], name: str, params: Mapping[str, Any] | None = None
) -> list[TransitionResult]:
    """Run the transition `name` on every record, in the store's transaction; a refusal names
    the record (its message starts with it, `field` is `ids[i]`) and changes nothing."""
    _check_size(len(record_ids))
    with collected_at_the_end():
        return workflow_run_many(store, entity_name, list(record_ids), name, params)
