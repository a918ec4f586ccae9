"""files.yaml: the document area's settings, their defaults and the errors of a broken file."""

from __future__ import annotations

import pytest

from app.spec.files import MEGABYTE, FilesSpec, expand
from app.spec.loader import load_spec

from .conftest import MakeConfig
from .test_loader_errors import BASE


def test_without_the_file_the_defaults_apply(make_config: MakeConfig) -> None:
    spec, errors = load_spec(make_config(BASE))
    assert errors == [] and spec is not None
    assert spec.files.max_bytes == 20 * MEGABYTE
    assert spec.files.allowed == expand(("pdf", "images", "office", "text"))
    assert spec.files.default_folder == "Documents"


def test_settings_are_read(make_config: MakeConfig) -> None:
    files = "max_size_mb: 5.5\nallowed: [pdf, jpeg, csv]\nfolders: [Photos,  'Fiches   techniques']\n"
    spec, errors = load_spec(make_config({**BASE, "files.yaml": files}))
    assert errors == [] and spec is not None
    assert spec.files == FilesSpec(
        max_bytes=int(5.5 * MEGABYTE), allowed=frozenset({"pdf", "jpeg", "csv"}), folders=("Photos", "Fiches techniques"),
        location=spec.files.location,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_size: 20\n", [(1, 1, "unknown key 'max_size' — did you mean 'max_size_mb'?")]),
        ("allowed: [pdf, imagess]\n", [(1, 16, "unknown file type 'imagess' — did you mean 'images'?")]),
        ("max_size_mb: 0\n", [(1, 14, "expected a number of at least 0")]),
        ("max_size_mb: vingt\n", [(1, 14, "expected a number for 'max_size_mb', got 'vingt'")]),
        ("folders: [Photos, 'a/b']\n", [(1, 19, "a folder name without /")]),
        ("folders: [Photos, ' photos ']\n", [(1, 19, "folder ' photos ' is the same as item 1 of 'folders'")]),
        ("allowed: []\n", [(1, 1, "'allowed' must not be empty")]),
    ],
)
def test_broken_files_yaml(make_config: MakeConfig, text: str, expected: list[tuple[int, int, str]]) -> None:
    spec, errors = load_spec(make_config({**BASE, "files.yaml": text}))
    assert spec is None
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert len(found) == len(expected), "\n".join(str(e) for e in errors)
    for (file, line, column, message), (eline, ecolumn, emessage) in zip(found, expected):
        assert (file, line, column) == ("files.yaml", eline, ecolumn), f"{file}:{line}:{column}: {message}"
        assert emessage in message, message
