"""Browser tests: the real app served by uvicorn (a subprocess, on a free port, with a fresh
SQLite database filled with a small demo-like dataset), driven by Playwright with Debian's
chromium. A failing test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generator, Iterator

import httpx
import pytest

from tests.e2e.helpers import PROJECT_ROOT, seed

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the live server's SQLite database, seeded: a test may add records to it
    directly when what it exercises in the browser is not how they are made."""
    from app.web.app import load_runtime

    work = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{work / 'e2e.db'}"
    rt = load_runtime(PROJECT_ROOT, database_url)
    seed(rt)
    rt.engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def live_server(live_database: str) -> Iterator[str]:
    database_url = live_database
    work = Path(database_url.removeprefix("sqlite:///")).parent
    env = {
        "COMPTOIR_DATABASE_URL": database_url,
        "COMPTOIR_CONFIG_DIR": str(PROJECT_ROOT),
        "COMPTOIR_SECRET_KEY": "e2e-secret-key",
        "COMPTOIR_FILES_DIR": str(work / "files"),
    }
    with running_server(work, env) as base:
        yield base


@contextmanager
def running_server(work: Path, env: dict[str, str]) -> Iterator[str]:
    """The app served by a subprocess (tests/e2e/_server.py) on a free port, with `env` over
    this process's environment; its base URL, the process stopped afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_server.py")), str(port)],
        env={**os.environ, **env},
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"the e2e server stopped (exit {process.returncode}):\n{output}")
        try:
            if httpx.get(f"{base}/admin/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the e2e server did not answer on {base} within 60 s")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    with browser_page(browser, live_server, request) as opened:
        yield opened


@contextmanager
def browser_page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A French page on `base_url`; a screenshot in test-artifacts/ when the test fails."""
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()

