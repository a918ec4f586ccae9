"""The configurator's scenario in the browser: after a YAML edit and a restart with
`comptoir serve`, the admin shows the new field, the new picklist value and the new entity."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.test_configurator import configure

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
LOGIN, PASSWORD = "configurateur", "config-pass-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _store_create(rt: Any, entity: str, values: dict[str, Any]) -> int:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        record = Store(rt, session, SYSTEM).create(entity, values)
        session.commit()
        return int(record.id)


@dataclass(frozen=True)
class Configured:
    base: str
    database_url: str
    config_dir: Path
    account_id: int


@pytest.fixture
def configured_server(tmp_path: Path, config_copy: Path) -> Iterator[Configured]:
    """Records made on the shipped configuration, then the YAML edited and `comptoir serve` started."""
    from app.web.app import load_runtime

    database_url = f"sqlite:///{tmp_path / 'configurator.db'}"
    before = load_runtime(config_copy, database_url)
    _store_create(before, "user", {"login": LOGIN, "groups": ["admin"], "password": PASSWORD})
    account_id = _store_create(before, "account", {"name": "Plomberie Martin", "type": "client", "city": "Lyon"})
    before.engine.dispose()

    configure(config_copy)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")},
        "COMPTOIR_DATABASE_URL": database_url,
        "COMPTOIR_CONFIG_DIR": str(config_copy),
        "COMPTOIR_SECRET_KEY": "e2e-configurator",
        "COMPTOIR_FILES_DIR": str(tmp_path / "files"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = tmp_path / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"comptoir serve stopped:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/admin/login", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"comptoir serve did not answer:\n{log.read_text()}")
            time.sleep(0.3)
        after = load_runtime(config_copy, database_url)  # the server has migrated: no change left
        _store_create(after, "vehicle", {"plate": "GH-417-KP", "account": account_id, "model": "Kangoo"})
        after.engine.dispose()
        yield Configured(base, database_url, config_copy, account_id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def admin_page(browser: Any, configured_server: Configured, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=configured_server.base, locale="fr-FR", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/admin/login")
    page.fill("#username", LOGIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_admin_shows_the_field_value_and_entity_added_in_yaml(admin_page: Any, configured_server: Configured) -> None:
    from playwright.sync_api import expect

    from app.web.app import load_runtime

    page = admin_page
    account_id = configured_server.account_id

    expect(page.locator("body")).to_contain_text("Véhicules")  # the new entity in the menu

    page.goto(f"/admin/account/edit/{account_id}")
    expect(page.locator("form")).to_contain_text("Taille de la flotte")
    expect(page.locator("#name")).to_have_value("Plomberie Martin")  # the row made before is intact
    expect(page.locator("#type option[value=key_account]")).to_have_text("Grand compte")
    page.fill("#fleet_size", "12")
    page.select_option("#type", "key_account")
    page.locator("input[type=submit][name=save]").first.click()
    page.wait_for_load_state()
    expect(page.locator("#form-error")).to_have_count(0)

    page.goto("/admin/vehicle/list")
    expect(page.locator("body")).to_contain_text("GH-417-KP")
    expect(page.locator("body")).to_contain_text("Plomberie Martin")

    rt = load_runtime(configured_server.config_dir, configured_server.database_url)
    try:
        account = _get(rt, "account", account_id)
        assert (account.fleet_size, account.type, account.name) == (12, "key_account", "Plomberie Martin")
    finally:
        rt.engine.dispose()


def _get(rt: Any, entity: str, record_id: int) -> Any:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        return Store(rt, session, SYSTEM).get(entity, record_id)
