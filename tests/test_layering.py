"""Dependencies point one way: runtime <- instrument <- CLI; no web or graph libraries below."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_runtime_pulls_in_no_heavy_or_higher_layer():
    modules = imported_after("import pyrona")
    for heavy in ("networkx", "fastapi", "jinja2", "sqlite3", "typing", "importlib.abc"):
        assert heavy not in modules
    assert not any(m.startswith("pyrona.instrument") for m in modules)


def test_runtime_modules_import_only_the_runtime_and_errors():
    for path in (ROOT / "pyrona" / "runtime").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = node.module or ""
                assert node.level == 1 or target in ("errors", "ours"), f"{path.name} imports ..{target}"


def imports_of(folder: Path) -> set[str]:
    """The pyrona modules imported by the modules of a folder (relative imports resolved)."""
    found = set()
    package = {"tracer": "pyrona.tracer"}.get(folder.name, f"pyrona.{folder.name}")
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pyrona"):
                found.add(node.module)
    return found


def test_the_tracer_does_not_reach_up_to_analyses_views_or_the_cli():
    for module in imports_of(ROOT / "tracer"):
        assert not module.startswith(("pyrona.analysis", "pyrona.views", "pyrona.cli", "pyrona.server"))


def test_the_tracer_uses_only_the_runtime_the_instrumentation_and_the_errors():
    allowed = ("pyrona.tracer", "pyrona.runtime", "pyrona.instrument", "pyrona.errors")
    for module in imports_of(ROOT / "tracer"):
        assert module.startswith(allowed), module


def test_the_errors_module_imports_nothing():
    """Every layer imports pyrona.errors: it must cost nothing and do no I/O."""
    tree = ast.parse((ROOT / "pyrona" / "errors.py").read_text(encoding="utf-8"))
    for node in tree.body:  # (typing only under TYPE_CHECKING)
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert isinstance(node, ast.ImportFrom) and node.module == "__future__", ast.unparse(node)


def test_no_server_module_imports_the_app():
    """The app imports the routes; routes raise HTTPProblem from its own module (no cycle)."""
    for module in imports_of(ROOT / "server"):
        assert module != "pyrona.server.app", module


def test_analyses_and_views_read_the_trace_model_only():
    for folder in ("analysis", "views"):
        for module in imports_of(ROOT / "pyrona" / folder):
            assert module.startswith((f"pyrona.{folder}", "pyrona.tracer.model")), (folder, module)


def test_lint_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", "pyrona", "tracer", "tests", "bench"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
