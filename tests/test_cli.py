"""The `comptoir` command, run as users run it: a subprocess with its environment."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from tests.engine.configs import write_config

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCATION = re.compile(r"^[\w./-]+\.(yaml|html|j2):\d+:\d+: ", re.MULTILINE)
START_TIMEOUT = 90.0  # seconds to wait for a server to answer (a slow CI machine)


class Cli:
    def __init__(self, tmp_path: Path, config_dir: Path) -> None:
        self.cwd = tmp_path / "work"
        self.cwd.mkdir(exist_ok=True)
        self.database_url = f"sqlite:///{tmp_path / 'cli.db'}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
        self.env.update(
            COMPTOIR_DATABASE_URL=self.database_url,
            COMPTOIR_CONFIG_DIR=str(config_dir),
            COMPTOIR_SECRET_KEY="test-secret",
            PYTHONPATH=str(PROJECT_ROOT),
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "app.cli", *args]

    def run(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            timeout=300,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> Server:
        """A background process whose output goes to files (a full pipe would block it)."""
        n = len(list(self.cwd.glob("server-*.out")))
        out, err = self.cwd / f"server-{n}.out", self.cwd / f"server-{n}.err"
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen(self.command(*args), stdout=stdout, stderr=stderr, text=True, cwd=self.cwd, env=env or self.env)
        return Server(process, out, err)


class Server:
    def __init__(self, process: subprocess.Popen[str], out: Path, err: Path) -> None:
        self.process = process
        self.out = out
        self.err = err

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8") + "\n" + self.err.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


@pytest.fixture
def cli(tmp_path: Path, config_copy: Path) -> Cli:
    return Cli(tmp_path, config_copy)


def break_config(config_dir: Path) -> list[str]:
    """Two mistakes in two files; returns the `file:line:` prefixes check must print."""
    account = config_dir / "schema" / "account.yaml"
    lines = account.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip() == "type: siren")
    lines[index] = lines[index].replace("siren", "sirne")
    account.write_text("\n".join(lines) + "\n", encoding="utf-8")
    template = config_dir / "templates" / "pdf" / "broken.html"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text("<p>\n{% if x %}\n", encoding="utf-8")
    return [f"schema/account.yaml:{index + 1}:", "templates/pdf/broken.html:"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, server: Server, *, status: int = 200) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the server stopped (exit {server.process.returncode}):\n{server.output()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == status:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer {status} within {START_TIMEOUT} s:\n{server.output()}")


@pytest.fixture
def stop() -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


# --- check ---------------------------------------------------------------------------------


def test_check_accepts_the_shipped_configuration(cli: Cli) -> None:
    result = cli.run("check")
    assert result.returncode == 0, result.stderr
    assert "Configuration valide" in result.stdout
    assert re.search(r"\d+ entités", result.stdout)


def test_check_lists_every_error_with_its_file_and_line(cli: Cli, config_copy: Path) -> None:
    expected = break_config(config_copy)
    result = cli.run("check")
    assert result.returncode == 1
    no_traceback(result)
    for prefix in expected:
        assert any(line.startswith(prefix) for line in result.stdout.splitlines()), (prefix, result.stdout)
    assert "did you mean" in result.stdout


def test_check_refuses_a_bulk_flag_that_is_not_a_boolean(cli: Cli, config_copy: Path) -> None:
    workflows = config_copy / "workflows.yaml"
    lines = workflows.read_text(encoding="utf-8").splitlines()
    # the first `bulk: true` of the shipped file is the quote's `validate`
    index = next(i for i, line in enumerate(lines) if line.strip() == "bulk: true")
    lines[index] = lines[index].replace("true", "oui")
    workflows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    column = lines[index].index("oui") + 1
    result = cli.run("check")
    assert result.returncode == 1
    no_traceback(result)
    assert f"workflows.yaml:{index + 1}:{column}: expected a boolean for 'bulk', got 'oui' (write true or false)" in result.stdout.splitlines()


def test_serve_refuses_a_broken_configuration_with_the_same_errors(cli: Cli, config_copy: Path) -> None:
    break_config(config_copy)
    checked = cli.run("check")
    served = cli.run("serve", "--port", str(free_port()))
    assert served.returncode == 1
    no_traceback(served)
    assert LOCATION.findall(checked.stdout)  # the pattern does match error lines
    check_errors = [line for line in checked.stdout.splitlines() if LOCATION.match(line)]
    serve_errors = [line for line in served.stderr.splitlines() if LOCATION.match(line)]
    assert serve_errors == check_errors
    assert len(check_errors) == 2


# --- users and tokens ----------------------------------------------------------------------


def test_user_add_then_token_opens_the_api(cli: Cli, config_copy: Path) -> None:
    added = cli.run("user", "add", "marie", "--group", "sales", "--password-stdin", stdin="un-mot-de-passe\n")
    assert added.returncode == 0, added.stderr
    token_run = cli.run("token", "marie")
    assert token_run.returncode == 0, token_run.stderr
    token = token_run.stdout.strip()
    assert token_run.stdout == token + "\n"  # only the token on standard output
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", token)

    from app.web.app import create_app

    app = create_app(config_dir=config_copy, database_url=cli.database_url, key="test")
    try:
        with TestClient(app) as client:
            created = client.post("/api/v1/account", json={"name": "Boulangerie Morel", "type": "client"}, headers={"Authorization": f"Bearer {token}"})
            assert created.status_code == 201, created.text
            listed = client.get("/api/v1/account", headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200
            assert "Boulangerie Morel" in listed.text
            refused = client.get("/api/v1/account", headers={"Authorization": f"Bearer {token}x"})
            assert refused.status_code == 401
            # a sales user may not delete accounts (groups.yaml): the token carries the group
            record_id = created.json()["id"]
            assert client.delete(f"/api/v1/account/{record_id}", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    finally:
        app.state.runtime.engine.dispose()


def test_user_add_with_an_unknown_group_lists_the_valid_ones(cli: Cli) -> None:
    result = cli.run("user", "add", "paul", "--group", "sales", "--group", "boss", "--password-stdin", stdin="un-mot-de-passe\n")
    assert result.returncode == 1
    no_traceback(result)
    assert "boss" in result.stderr
    for group in ("admin", "sales", "accounting", "readonly"):
        assert group in result.stderr
    assert cli.run("token", "paul").returncode == 1  # nothing was created


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [("court\n", "8"), ("\n", "vide")],
)
def test_user_add_refuses_a_bad_password(cli: Cli, stdin: str, fragment: str) -> None:
    result = cli.run("user", "add", "paul", "--group", "sales", "--password-stdin", stdin=stdin)
    assert result.returncode == 1
    no_traceback(result)
    assert fragment in result.stderr


def test_user_add_twice_is_refused(cli: Cli) -> None:
    assert cli.run("user", "add", "zoe", "--group", "admin", "--password-stdin", stdin="un-mot-de-passe\n").returncode == 0
    again = cli.run("user", "add", "zoe", "--group", "admin", "--password-stdin", stdin="un-mot-de-passe\n")
    assert again.returncode == 1
    no_traceback(again)
    assert "login" in again.stderr


def test_token_of_an_unknown_login_prints_nothing_on_stdout(cli: Cli) -> None:
    result = cli.run("token", "nobody")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "nobody" in result.stderr
    no_traceback(result)


def test_unreachable_database_is_a_message_not_a_traceback(cli: Cli) -> None:
    result = cli.run("migrate", env={"COMPTOIR_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    assert result.returncode == 1
    no_traceback(result)
    assert "127.0.0.1" in result.stderr


# --- migrate and demo ----------------------------------------------------------------------

GADGET = """
    label: {fr: Gadget, en: Gadget}
    plural: {fr: Gadgets, en: Gadgets}
    title: name
    fields:
      name: {type: string, label: Nom}
      fax: {type: phone, label: Fax}
    list:
      columns: [name]
"""


def test_migrate_refuses_a_removed_field_then_applies_the_reviewed_script(tmp_path: Path) -> None:
    config = write_config(tmp_path / "small", {"gadget": GADGET})
    cli = Cli(tmp_path, config)
    first = cli.run("migrate")
    assert first.returncode == 0, first.stderr
    assert "gadget" in first.stdout
    assert "déjà" in cli.run("migrate").stdout  # nothing left to do

    write_config(config, {"gadget": GADGET.replace("      fax: {type: phone, label: Fax}\n", "")})
    refused = cli.run("migrate")
    assert refused.returncode == 1
    no_traceback(refused)
    assert "gadget.fax" in refused.stderr and "--write-script" in refused.stderr
    assert cli.run("serve", "--port", str(free_port())).returncode == 1  # nor does the server start

    written = cli.run("migrate", "--write-script", str(tmp_path / "review"))
    assert written.returncode == 0, written.stderr
    (script,) = (tmp_path / "review").glob("*.py")
    assert "'fax'" in script.read_text(encoding="utf-8")
    applied = cli.run("migrate", "--apply-script", str(script))
    assert applied.returncode == 0, applied.stderr
    assert "déjà" in cli.run("migrate").stdout


def test_demo_loads_into_an_empty_database_only(cli: Cli) -> None:
    loaded = cli.run("demo", "--today", "2025-03-14")
    assert loaded.returncode == 0, loaded.stderr
    assert "admin-demo" in loaded.stdout
    again = cli.run("demo")
    assert again.returncode == 1
    no_traceback(again)
    token = cli.run("token", "compta")
    assert token.returncode == 0 and token.stdout.strip()


# --- serve ---------------------------------------------------------------------------------


def test_serve_demo_starts_on_a_fresh_database(cli: Cli, stop: list[Server]) -> None:
    stale = cli.cwd / "comptoir-demo.db"
    stale.write_bytes(b"not a database")  # replaced, not reused
    port = free_port()
    env = {k: v for k, v in cli.env.items() if k != "COMPTOIR_DATABASE_URL"}
    server = cli.start("serve", "--demo", "--port", str(port), env=env)
    stop.append(server)
    wait_for(f"http://127.0.0.1:{port}/admin/login", server)
    server.stop()
    out = server.out.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{port}/admin/" in out
    for login, password in (("admin", "admin-demo"), ("commercial", "commercial-demo"), ("compta", "compta-demo")):
        assert re.search(rf"{login}\s+{password}", out), out
    assert stale.stat().st_size > 1000


def test_serve_reload_follows_a_yaml_edit(cli: Cli, config_copy: Path, stop: list[Server]) -> None:
    assert cli.run("user", "add", "api", "--group", "admin", "--password-stdin", stdin="un-mot-de-passe\n").returncode == 0
    token = cli.run("token", "api").stdout.strip()
    port = free_port()
    server = cli.start("serve", "--reload", "--port", str(port))
    stop.append(server)
    wait_for(f"http://127.0.0.1:{port}/admin/login", server)

    def openapi() -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return {}

    assert "fleet_size" not in json.dumps(openapi())
    account = config_copy / "schema" / "account.yaml"
    text = account.read_text(encoding="utf-8")
    account.write_text(text.replace("fields:\n", "fields:\n  fleet_size: {type: integer, label: {fr: Flotte, en: Fleet}}\n", 1), encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT
    while "fleet_size" not in json.dumps(openapi()):
        if time.monotonic() > deadline:
            pytest.fail("the new field never appeared:\n" + server.output())
        time.sleep(0.5)


def test_the_server_app_freezes_its_start_up_objects_out_of_the_collector(cli: Cli) -> None:
    """What `comptoir serve` (and its reload factory) does once the app is built: the
    start-up objects leave the garbage collector's generations (gc.freeze)."""
    code = "import gc\nfrom app.cli import app_factory\nbefore = gc.get_freeze_count()\napp_factory()\nprint(before, gc.get_freeze_count())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cli.cwd, env=cli.env, timeout=300)
    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split())
    assert before == 0 and after > 10_000
