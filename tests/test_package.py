"""The wheel: built as `make dist` builds it, installed with its real dependencies into a
fresh virtual environment of the project's Python, and served from there, away from
the checkout, with no Node.

The wheel is built once per session from a copy of the checkout (so no earlier build's
leftovers in build/ can slip in, and the checkout is left as it was). Its dependencies
come from PyPI through pip's own cache: a venv without the system's or this venv's
packages, so a dependency missing from pyproject.toml fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

import pyrona
from pyrona.instrument.importer import should_instrument
from pyrona.ours import DATA_FOLDER, is_ours
from pyrona.server.launch import free_port

ROOT = Path(__file__).resolve().parent.parent
MERMAID = ROOT / "node_modules" / "mermaid"
SWAGGER = ROOT / "node_modules" / "swagger-ui-dist"
#: the files of npm's packages the build takes (the rest of node_modules stays out of the copy)
NPM_FILES = [("mermaid", name) for name in ("dist/mermaid.min.js", "LICENSE", "package.json")] + [
    ("swagger-ui-dist", name) for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png",
                                           "LICENSE", "package.json")]
SAMPLES = sorted(p.stem for p in (ROOT / "sample_programs").glob("*.py"))
#: what a copy of the checkout leaves out: version control, environments, npm's tree (but
#: for the two files the build takes from it) and every build's or run's leftovers
SKIPPED = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "*.egg-info",
                                 "__pycache__", ".pytest_cache", ".hypothesis", "test-artifacts", "*.db*")


def run(command: list[str], timeout: float, **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, f"{command[:4]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert (MERMAID / "dist" / "mermaid.min.js").is_file(), "npm's packages are missing: run make setup"
    copy = tmp_path_factory.mktemp("checkout") / "pyrona"
    shutil.copytree(ROOT, copy, ignore=SKIPPED)
    for package, name in NPM_FILES:
        target = copy / "node_modules" / package / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "node_modules" / package / name, target)
    return copy


@pytest.fixture(scope="session")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)], timeout=600)
    (built,) = out.glob("pyrona-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (the project's Python, nothing but the wheel and its dependencies)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(wheel)], timeout=600, env=clean_env())
    return venv


def clean_env() -> dict[str, str]:
    """The environment without anything that points Python at this checkout or this venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP", "PYRONA_DB")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(sys.prefix))
    return env


def test_the_packaged_samples_are_programs_to_trace_not_our_code(tmp_path):
    package = Path(pyrona.__file__).resolve().parent
    sample = package / DATA_FOLDER / "samples" / "cowns.py"
    assert is_ours(str(package / "cli.py")) and not is_ours(str(sample))
    assert should_instrument(str(sample), sample.parent)
    # a program in a package of site-packages is traced; site-packages itself, or a venv
    # inside the program's folder, is third-party code
    folder = tmp_path.resolve() / "lib" / "site-packages"
    assert should_instrument(str(folder / "pkg" / "m.py"), folder / "pkg")
    assert not should_instrument(str(folder / "m.py"), folder)
    assert not should_instrument(str(folder / "pkg" / ".venv" / "m.py"), folder / "pkg")


def test_the_wheel_holds_the_pages_the_samples_and_mermaid(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("pyrona/share/templates/home.html", "pyrona/share/frontend/common.js",
                  "pyrona/share/vendor/mermaid/mermaid.min.js", "pyrona/share/vendor/mermaid/LICENSE",
                  "pyrona/share/vendor/swagger-ui/swagger-ui-bundle.js",
                  "pyrona/share/vendor/swagger-ui/swagger-ui.css",
                  "pyrona/server/app.py", "pyrona/tracer/store.py", "pyrona/cli.py"):
        assert asset in names
    assert {f"pyrona/share/samples/{s}.py" for s in SAMPLES} <= names
    # npm's other builds, the tests and the checkout's own files stay out
    assert not [n for n in names if n.startswith(("tests/", "node_modules/", "bench/"))
                or (n.startswith("pyrona/share/vendor/")
                    and not n.endswith(("mermaid.min.js", "LICENSE", "swagger-ui-bundle.js", "swagger-ui.css",
                                        "favicon-32x32.png")))]


def test_the_wheel_names_no_path_of_the_machine_that_built_it(wheel: Path, source: Path):
    machine = {str(p).encode() for p in (ROOT, source, source.parent, Path(sys.prefix))}
    patterns = re.compile(rb"build-env-|/build/lib|/bdist\.")
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            assert not name.startswith("/") and ".." not in name.split("/"), name
            data = archive.read(name)
            found = [p for p in machine if p in data] + patterns.findall(data)
            assert not found, f"{name} names {found}"


def test_pyrona_serve_from_the_installed_wheel_serves_pages_mermaid_and_the_samples(installed: Path,
                                                                                  tmp_path: Path):
    python, pyrona = installed / "bin" / "python", installed / "bin" / "pyrona"
    where = run([str(python), "-c", "import json, sys, pyrona.server.settings as s; "
                 "c = s.ServerSettings(db=None); "
                 "print(json.dumps([sys.path, str(c.templates), str(c.mermaid), str(c.samples)]))"],
                timeout=60, cwd=tmp_path, env=clean_env())
    path, *folders = json.loads(where.stdout)
    assert not [p for p in path if p.startswith(str(ROOT))]
    site = str(installed)
    assert all(f.startswith(site) and "/pyrona/share/" in f for f in folders), folders

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "serve.log", "w+b") as log:
        command = [str(pyrona), "serve", "--port", str(port), "--db", str(tmp_path / "t.db"), "--samples"]
        proc = subprocess.Popen(command, cwd=tmp_path, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(proc, base, log)
            home = fetch(f"{base}/")
            assert b"/vendor/mermaid/mermaid.min.js" in home and b"/static/" in home
            bundle = (MERMAID / "dist" / "mermaid.min.js").read_bytes()
            assert fetch(f"{base}/vendor/mermaid/mermaid.min.js") == bundle
            assert fetch(f"{base}/static/common.js") == (ROOT / "frontend" / "common.js").read_bytes()
            # the API docs' Swagger UI comes from the package too (no CDN)
            assert b"/vendor/swagger-ui/swagger-ui-bundle.js" in fetch(f"{base}/api/docs")
            bundle = (SWAGGER / "swagger-ui-bundle.js").read_bytes()
            assert fetch(f"{base}/vendor/swagger-ui/swagger-ui-bundle.js") == bundle
            samples = json.loads(fetch(f"{base}/api/samples"))["samples"]
            assert sorted(s["name"] for s in samples) == SAMPLES
            # the samples are traced by the worker of the installed package, in its sandbox
            traces = wait_for_traces(base, len(SAMPLES))
            assert {t["status"] for t in traces} == {"done"}, traces
            assert all(t["steps"] > 0 for t in traces)
            page = fetch(f"{base}/traces/{traces[0]['id']}")
            assert b"mermaid.min.js" in page
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    # the CLI finds the bundle too: a self-contained page inlines it
    html = tmp_path / "trace.html"
    run([str(pyrona), "export", str(traces[0]["id"]), "--format", "html", "--db", str(tmp_path / "t.db"),
         "-o", str(html)], timeout=120, cwd=tmp_path, env=clean_env())
    assert len(html.read_bytes()) > (MERMAID / "dist" / "mermaid.min.js").stat().st_size
    # and the installed samples trace from where they are, like any program
    sample = Path(folders[2]) / "linked_list.py"
    traced = run([str(pyrona), "trace", str(sample), "--db", str(tmp_path / "cli.db")], timeout=120,
                 cwd=tmp_path, env=clean_env())
    steps = re.search(r"traced linked_list\.py: (\d+) steps", traced.stdout + traced.stderr)
    assert steps and int(steps.group(1)) == next(t["steps"] for t in traces if t["name"] == "linked_list.py")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200, url
        return answer.read()


def wait_until_up(proc: subprocess.Popen[bytes], base: str, log: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)  # type: ignore[attr-defined]
            pytest.fail(f"pyrona serve exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")  # type: ignore[attr-defined]
        try:
            fetch(f"{base}/api/traces")
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"pyrona serve did not answer in {timeout} s")


def wait_for_traces(base: str, count: int, timeout: float = 240) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        traces = json.loads(fetch(f"{base}/api/traces"))["traces"]
        if len(traces) == count and all(t["status"] not in ("queued", "running") for t in traces):
            return traces
        assert time.monotonic() < deadline, f"the samples were not traced in {timeout} s: {traces}"
        time.sleep(0.3)
