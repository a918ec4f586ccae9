"""Numbering patterns such as `CU{yy}{mm}-{0000}`: date parts and a zero-padded counter.

The counter restarts each period that the pattern shows: a pattern with {mm} counts per month,
one with only {yy} or {yyyy} per year, one without date parts never restarts.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
DATE_PARTS = ("yyyy", "yy", "mm", "dd")


def placeholders(pattern: str) -> list[str]:
    return PLACEHOLDER.findall(pattern)


def unknown_placeholders(pattern: str) -> list[str]:
    """Placeholders that are neither a date part nor a counter of zeros."""
    return [p for p in placeholders(pattern) if p not in DATE_PARTS and not re.fullmatch(r"0+", p)]


def period_key(pattern: str, day: dt.date) -> str:
    parts = set(placeholders(pattern))
    if "dd" in parts:
        return day.strftime("%Y-%m-%d")
    if "mm" in parts:
        return day.strftime("%Y-%m")
    if "yy" in parts or "yyyy" in parts:
        return day.strftime("%Y")
    return "all"


def format_number(pattern: str, day: dt.date, counter: int) -> str:
    out = []
    for literal, token in _pieces(pattern):
        out.append(literal)
        if token == "yyyy":
            out.append(f"{day.year:04d}")
        elif token == "yy":
            out.append(f"{day.year % 100:02d}")
        elif token == "mm":
            out.append(f"{day.month:02d}")
        elif token == "dd":
            out.append(f"{day.day:02d}")
        elif token is not None:
            out.append(str(counter).zfill(len(token)))
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _pieces(pattern: str) -> tuple[tuple[str, str | None], ...]:
    """The pattern as (text before, placeholder) pairs, the last placeholder None: a pattern
    is split once, its numbers are written many times."""
    pieces: list[tuple[str, str | None]] = []
    start = 0
    for match in PLACEHOLDER.finditer(pattern):
        pieces.append((pattern[start : match.start()], match.group(1)))
        start = match.end()
    pieces.append((pattern[start:], None))
    return tuple(pieces)


# --- `reset:` of assign_number: when the counter restarts, whatever date parts the pattern shows

RESETS = ("yearly", "monthly", "never")


def has_year(pattern: str) -> bool:
    return bool({"yy", "yyyy"} & set(placeholders(pattern)))


@functools.lru_cache(maxsize=256)
def default_reset(pattern: str) -> str:
    """`yearly` when the pattern shows the year, else `never` (a {mm} alone does not restart)."""
    return "yearly" if has_year(pattern) else "never"


def reset_problems(pattern: str, reset: str) -> list[str]:
    """A reset the pattern cannot show would give the same number twice (FA-0001 each year)."""
    if reset not in RESETS:
        return [f"unknown reset '{reset}' (use {', '.join(RESETS)})"]
    if reset in ("yearly", "monthly") and not has_year(pattern):
        return [f"reset '{reset}' needs the year in the number pattern ({{yy}} or {{yyyy}}), or the numbers repeat"]
    if reset == "monthly" and "mm" not in placeholders(pattern):
        return ["reset 'monthly' needs the month in the number pattern ({mm}), or the numbers repeat"]
    return []


def reset_key(reset: str, day: dt.date) -> str:
    """The period part of the counter key: one counter per year, per month, or one for ever."""
    if reset == "monthly":
        return day.strftime("%Y-%m")
    if reset == "yearly":
        return day.strftime("%Y")
    return "all"
