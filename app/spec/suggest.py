"""Wording shared by error messages: "did you mean" suggestions and how values are shown."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str], *, wrap: str = "'{}'") -> str:
    """` — did you mean 'x'?` for the nearest candidate, or "" when none is near."""
    match = closest(word, candidates)
    return f" — did you mean {wrap.format(match)}?" if match is not None else ""


def show(value: Any) -> str:
    """A value as a configurator wrote it: 'text', 12, true, nothing, a list, a mapping."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return f"'{text}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
