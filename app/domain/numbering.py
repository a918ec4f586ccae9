"""Numbering patterns such as `CU{yy}{mm}-{0000}`: date parts and a zero-padded counter.

The counter restarts each period that the pattern shows: a pattern with {mm} counts per month,
one with only {yy} or {yyyy} per year, one without date parts never restarts.
"""

from __future__ import annotations

import datetime as dt
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
    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "yyyy":
            return f"{day.year:04d}"
        if token == "yy":
            return f"{day.year % 100:02d}"
        if token == "mm":
            return f"{day.month:02d}"
        if token == "dd":
            return f"{day.day:02d}"
        return str(counter).zfill(len(token))

    return PLACEHOLDER.sub(replace, pattern)
