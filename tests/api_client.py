"""A test's client of a running server's JSON API (a real process on a port), and polling."""

from __future__ import annotations

import json
import time
import urllib.request


def get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=30) as answer:
        return json.load(answer)


def post(base: str, name: str, source: str) -> int:
    """Uploads `source` as a program named `name`; returns its trace's id."""
    request = urllib.request.Request(base + "/api/traces", data=json.dumps({"name": name, "source": source})
                                     .encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["id"]


def wait_for(what, timeout: float, why: str):
    """What `what()` returns once it is truthy; fails with `why` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, why
        time.sleep(0.2)
    return found
