"""Serve the app for the browser tests: `python tests/e2e/_server.py PORT` (settings from the env)."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.web.app import create_app  # noqa: E402


def main() -> None:
    port = int(sys.argv[1])
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
