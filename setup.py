"""The wheel's build step that pyproject.toml cannot say: it copies the files that are not
code into the package, under pyrona/share/ (the layout pyrona/assets.py reads).

Why at build time: the browser libraries come from npm and are never committed (nor are
copies of them), yet an installed wheel must serve them on a machine without Node or the
checkout. So the build takes them from node_modules (`make dist` runs `npm ci` first; a
build without them runs `npm ci` itself when npm is there, else stops and says so), with
our templates, scripts and sample programs, which live outside the package's folders in
the checkout. Only what is served is copied: mermaid's self-contained bundle and Swagger UI's, with
their licences, not their other builds. An editable install copies nothing: it reads the
checkout itself.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: (source in the checkout, destination under pyrona/share, file patterns)
ASSETS = (
    ("templates", "templates", ("*.html",)),
    ("frontend", "frontend", ("*.js", "*.css")),
    ("sample_programs", "samples", ("*.py",)),
    ("node_modules/mermaid/dist", "vendor/mermaid", ("mermaid.min.js",)),
    ("node_modules/mermaid", "vendor/mermaid", ("LICENSE",)),
    # /api/docs: Swagger UI's bundle, style and icon (not its other builds)
    ("node_modules/swagger-ui-dist", "vendor/swagger-ui",
     ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE")),
)
#: one file of each npm package the wheel needs: all there, or `npm ci` runs
NPM_FILES = (HERE / "node_modules" / "mermaid" / "dist" / "mermaid.min.js",
             HERE / "node_modules" / "swagger-ui-dist" / "swagger-ui-bundle.js")


def ensure_npm_packages() -> None:
    if all(file.is_file() for file in NPM_FILES):
        return
    npm = shutil.which("npm")
    if npm is None or not (HERE / "package-lock.json").is_file():
        raise SystemExit("error: the browser libraries are not installed (node_modules): "
                         "run `npm ci` (Node.js) before building the wheel, or `make dist`")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        ensure_npm_packages()
        share = Path(self.build_lib) / "pyrona" / "share"
        shutil.rmtree(share, ignore_errors=True)  # nothing left over from an earlier build
        for source, target, patterns in ASSETS:
            files = sorted({f for pattern in patterns for f in (HERE / source).glob(pattern) if f.is_file()})
            if not files:
                raise SystemExit(f"error: nothing to package in {source}/ ({', '.join(patterns)})")
            (share / target).mkdir(parents=True, exist_ok=True)
            for file in files:
                self.copy_file(str(file), str(share / target / file.name))


#: C loops built with the machine's compiler; each optional: without it (no compiler, a
#: failed build) the install goes on and pyrona runs the pure-Python twin. No debug
#: information: it would name the folder it was built in.
#: - freeze's hot loops (pyrona/runtime/_freezewalk.c; twins in pyrona/runtime/freezing.py)
#: - the LINE callback's common case, a group row's JSON, the model's objects from a row's columns
#:   (tracer/_speedups.c; `pyrona.tracer.line.SPEEDUPS` says which runs)
FREEZE_WALK = Extension("pyrona.runtime._freezewalk", ["pyrona/runtime/_freezewalk.c"], optional=True,
                        extra_compile_args=["-g0"])
SPEEDUPS = Extension("pyrona.tracer._speedups", ["tracer/_speedups.c"], optional=True,
                     extra_compile_args=["-g0"])


class BuildOptional(build_ext):
    """build_ext that says plainly when an accelerator could not be built."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:  # (a missing compiler raises setuptools' own errors)
            print(f"note: {ext.name} not built ({error}); pyrona runs its pure-Python twin", flush=True)
            if not ext.optional:
                raise


setup(cmdclass={"build_py": BuildWithAssets, "build_ext": BuildOptional}, ext_modules=[FREEZE_WALK, SPEEDUPS])
