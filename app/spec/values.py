"""Lenient readers of raw YAML values, used after schema validation has reported any problem.

They never fail: a value of the wrong shape reads as None (or the default), because the
schema check has already produced the error; building continues to find further errors.
"""

from __future__ import annotations

from typing import Any

from app.spec.model import Label


def label_of(value: Any, default: str) -> Label:
    """`Tiers` → Label(Tiers, Tiers); `{fr, en}` → Label, a missing language uses the other one."""
    if isinstance(value, str) and value:
        return Label(value, value)
    if isinstance(value, dict):
        fr, en = value.get("fr"), value.get("en")
        fr = fr if isinstance(fr, str) else None
        en = en if isinstance(en, str) else None
        if fr is not None or en is not None:
            return Label(fr if fr is not None else str(en), en if en is not None else str(fr))
    return Label(default, default)


def opt_label(value: Any) -> Label | None:
    return label_of(value, "") if value is not None else None


def opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def flag(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def opt_bound(value: Any) -> int | float | str | None:
    """A min/max bound: a number or a string (ISO date)."""
    if isinstance(value, bool):
        return None
    return value if isinstance(value, (int, float, str)) else None


def str_items(value: Any) -> list[tuple[int, str]]:
    """(index, item) for the string items of a list; other items are skipped."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, str)]


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def expression_source(value: Any) -> str | None:
    """A `default:` as expression text: YAML numbers and booleans become their literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return value if isinstance(value, str) else None
