"""Fixtures for the spec loader tests: tiny configuration folders written from YAML snippets."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

MakeConfig = Callable[[dict[str, str]], Path]


def write_config(root: Path, files: dict[str, str]) -> Path:
    """Write each `relative path -> YAML text` (dedented, leading newline dropped) under root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_config(tmp_path: Path) -> MakeConfig:
    def make(files: dict[str, str]) -> Path:
        return write_config(tmp_path / "config", files)

    return make
