"""Where pyrona's files that are not code live: the web pages' templates and scripts, the
sample programs, and the browser libraries installed from npm (mermaid).

Two layouts, one question ("where is the folder of X?"):

- an installed wheel holds them inside the package, under `pyrona/share/` (the build
  copies them there, npm's included: see setup.py), found through `importlib.resources`;
- an editable install (`make setup`) reads them where they are edited, in the checkout it
  was installed from. That checkout is the install's own record (PEP 610's
  direct_url.json in the dist-info), never guessed from where this file sits.

Only the server and the CLI ask (lazily): the sandboxed worker never imports this.
"""

from __future__ import annotations

import json
from pathlib import Path

from .ours import DATA_FOLDER

#: the distribution whose files these are
DISTRIBUTION = "pyrona"
#: each asset's folder inside the installed package (under SHARE) and in a checkout;
#: setup.py's build step writes the first layout (keep the two in step)
SHARE = DATA_FOLDER  # (not our code: the samples there are traced like any program)
PACKAGED = {"templates": "templates", "frontend": "frontend", "samples": "samples",
            "mermaid": "vendor/mermaid", "swagger": "vendor/swagger-ui"}
CHECKOUT = {"templates": "templates", "frontend": "frontend", "samples": "sample_programs",
            "mermaid": "node_modules/mermaid/dist", "swagger": "node_modules/swagger-ui-dist"}


def folder(name: str) -> Path:
    """The folder of asset `name` (a key of PACKAGED): inside the installed package when it
    holds it, else in the editable install's checkout. When neither has it (mermaid before
    `npm ci`), the packaged path, which does not exist: callers test for it."""
    packaged = _package_share() / PACKAGED[name]
    if packaged.is_dir():
        return packaged
    checkout = editable_checkout()
    if checkout is not None and (checkout / CHECKOUT[name]).is_dir():
        return checkout / CHECKOUT[name]
    return packaged


def _package_share() -> Path:
    from importlib.resources import files

    # a wheel installs as plain files: the traversable is a real folder
    return Path(str(files(__package__ or DISTRIBUTION))) / SHARE


def editable_checkout() -> Path | None:
    """The source folder of an editable install of pyrona; None for any other install.
    (Every record of the name is asked: a build leaves a plain pyrona.egg-info in the
    checkout, found first when the checkout is the current folder.)"""
    from importlib.metadata import distributions
    from urllib.parse import unquote, urlparse

    for dist in distributions(name=DISTRIBUTION):
        try:
            info = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        url = urlparse(info.get("url", ""))
        if info.get("dir_info", {}).get("editable") and url.scheme == "file":
            return Path(unquote(url.path))
    return None
