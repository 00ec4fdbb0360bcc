"""deploy/: the compose file, the image and the worker's systemd unit say one consistent
thing: one PostgreSQL, one web process without workers, N workers of the same image
against the same database, the sandbox's needs granted, the wheel installed."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def option(command: list[str], name: str) -> str:
    """The value after `name` in an argv list (exactly once)."""
    assert command.count(name) == 1, f"{name} in {command}"
    return command[command.index(name) + 1]


def test_one_postgres_one_web_and_several_workers(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "web", "worker"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["web"].get("deploy", {}).get("replicas", 1) == 1
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_web_and_workers_run_the_same_image_built_from_the_containerfile(compose):
    web, worker = compose["services"]["web"], compose["services"]["worker"]
    assert web["image"] == worker["image"] and web["build"] == worker["build"]
    build = web["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).is_file()


def test_the_commands_share_one_postgresql_url_naming_the_compose_database(compose):
    services = compose["services"]
    web, worker = services["web"]["command"], services["worker"]["command"]
    assert web[:2] == ["pyrona", "serve"] and worker[:2] == ["pyrona", "worker"]
    assert option(web, "--db") == option(worker, "--db")
    # as compose gives it, once it has put the password in
    url = urlparse(re.sub(r"\$\{[^}]*\}", "secret", option(web, "--db")))
    env = services["postgres"]["environment"]
    assert url.scheme == "postgresql" and url.hostname == "postgres"
    assert url.username == env["POSTGRES_USER"] and url.path == f"/{env['POSTGRES_DB']}"
    assert url.port == 5432 and url.password == "secret"
    # the password is the one PostgreSQL is given, never written in the file
    secret = "${POSTGRES_PASSWORD"
    assert secret in option(web, "--db") and env["POSTGRES_PASSWORD"].startswith(secret)


def test_web_runs_no_programs_and_listens_for_others_on_its_published_port(compose):
    web = compose["services"]["web"]
    command = web["command"]
    assert option(command, "--workers") == "0"
    assert option(command, "--host") == "0.0.0.0"
    assert "--public" in command  # reached by others: token URLs, per-session lists
    published = [p.split(":") for p in web["ports"]]
    assert [container for *_, container in published] == [option(command, "--port")]


def test_workers_get_what_bubblewrap_needs_and_time_to_finish_their_runs(compose):
    worker = compose["services"]["worker"]
    assert int(option(worker["command"], "--concurrency")) >= 1
    assert {"seccomp=unconfined", "apparmor=unconfined"} <= set(worker["security_opt"])
    assert not worker.get("privileged") and not worker.get("cap_add")  # a user namespace is enough
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace and int(grace.group(1)) > 60  # a run's wall time limit


def test_everything_waits_for_a_healthy_postgres_and_the_volumes_are_declared(compose):
    services = compose["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])
            if not v.startswith((".", "/"))}
    assert used == set(compose["volumes"]) == {"pgdata"}
    assert "/var/lib/postgresql/data" in services["postgres"]["volumes"][0]


def test_the_containerfile_installs_the_wheel_that_make_dist_builds_with_bubblewrap():
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    body = "\n".join(lines)
    assert re.search(r"^FROM python:3\.13", body, re.M)
    copy = re.search(r"^COPY (dist/pyrona-\*\.whl) ", body, re.M)
    assert copy, "the image installs the wheel of `make dist` (dist/)"
    assert re.search(r"pip install .*pyrona-\*\.whl", body)
    assert "--outdir dist" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "apt-get install" in body and "bubblewrap" in body
    user = re.findall(r"^USER (\S+)", body, re.M)
    assert user and user[-1] not in ("root", "0")
    # the build context is the checkout; .dockerignore lets only the wheel through
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "*" in ignore and f"!{copy.group(1)}" in ignore


def test_the_worker_unit_has_its_sections_and_runs_pyrona_worker_unprivileged():
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read_string((DEPLOY / "pyrona-worker.service").read_text(encoding="utf-8"))
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert command[0].startswith("/") and command[0].endswith("/bin/pyrona")
    assert command[1] == "worker"
    assert option(command, "--db") == "${PYRONA_DB}" and int(option(command, "--concurrency")) >= 1
    assert service["EnvironmentFile"].startswith("/")  # the URL and its password live there
    assert service["User"] not in ("root", "0") and service["Restart"] in ("on-failure", "always")
    assert int(service["TimeoutStopSec"]) > 60
    for blocks_bwrap in ("RestrictNamespaces", "PrivateUsers", "SystemCallFilter"):
        assert blocks_bwrap not in service
    assert "network-online.target" in unit["Unit"]["After"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_every_command_deploy_runs_is_one_pyrona_accepts(compose):
    # the commands parsed by pyrona's own CLI parser, so an option renamed there fails here
    from pyrona.cli import build_parser

    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str
    unit.read_string((DEPLOY / "pyrona-worker.service").read_text(encoding="utf-8"))
    commands = [compose["services"][name]["command"] for name in ("web", "worker")]
    commands.append(unit["Service"]["ExecStart"].split())
    parser = build_parser()
    for command in commands:
        assert command[0].endswith("pyrona")
        args = parser.parse_args([str(part) for part in command[1:]])
        assert args.command in ("serve", "worker")
        assert str(args.db).startswith(("postgresql://", "${PYRONA_DB}"))
