"""Picture exports through the API: queued on the job manager's bounded queue behind the
runs (never drawn inside a request), polled, downloaded; clear errors and limits."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile

import pytest
from fastapi.testclient import TestClient

from pyrona.server.app import create_app
from pyrona.server.export_jobs import MAX_PENDING
from pyrona.server.settings import Limits, ServerSettings

Image = pytest.importorskip("PIL.Image")
CHROMIUM = "/usr/bin/chromium"
SLOW = "import time\ntime.sleep(3)\nprint('slept')\n"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"the export tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    settings = ServerSettings(db=tmp_path_factory.mktemp("exports") / "traces.db",
                              limits=Limits(cpu_seconds=10, wall_seconds=30), workers=1)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def job_queue(client) -> int:
    trace = client.post("/api/traces", json={"sample": "job_queue"}).json()["id"]
    assert client.app.state.jobs.wait(trace, 60)
    return trace


def finished(client: TestClient, export: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/api/exports/{export}").json()
        if info["status"] in ("done", "failed"):
            return info
        time.sleep(0.2)
    raise AssertionError(f"export {export} did not finish: {info}")


def download(client: TestClient, export: str) -> str:
    """The download of an export that must succeed (its message if it failed)."""
    info = finished(client, export)
    assert info["status"] == "done", info
    return info["download"]


def test_an_export_waits_in_the_runs_queue_and_is_downloaded(client, job_queue):
    slow = client.post("/api/traces", json={"name": "slow.py", "source": SLOW}).json()["id"]
    asked = client.post(f"/api/traces/{job_queue}/exports", json={"format": "png", "step": 20})
    assert asked.status_code == 202, asked.text
    info = asked.json()
    assert info["status"] == "queued" and info["download"] is None and info["step"] == 20
    assert asked.headers["location"] == f"/api/exports/{info['id']}"
    early = client.get(f"/api/exports/{info['id']}/file")
    assert early.status_code == 409 and early.json()["error"]["kind"] == "not-ready"
    done = finished(client, info["id"])
    # one worker thread: the slow run queued first ended before the export was drawn
    assert client.get(f"/api/traces/{slow}").json()["status"] == "done"
    assert done["status"] == "done" and done["download"] == f"/api/exports/{info['id']}/file"
    response = client.get(done["download"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert 'filename="trace-' in response.headers["content-disposition"]
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.size == (1280, 720)


def test_formats_of_the_slides_and_the_offline_page(client, job_queue):
    asked = {"gif": {"format": "gif", "bookmarks": [3, 20], "size": "640x360"},
             "pdf": {"format": "pdf", "bookmarks": [3, 20, 30]},
             "zip": {"format": "svg", "slides": True, "bookmarks": [5, 20]},
             "html": {"format": "html", "step": 20}}
    ids = {k: client.post(f"/api/traces/{job_queue}/exports", json=v).json()["id"] for k, v in asked.items()}
    gif = client.get(download(client, ids["gif"]))
    with Image.open(io.BytesIO(gif.content)) as picture:
        assert picture.n_frames == 2 and picture.size == (640, 360)
    pdf = client.get(download(client, ids["pdf"]))
    assert pdf.headers["content-type"] == "application/pdf"
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.content)) == 3
    page = client.get(download(client, ids["html"]))
    assert page.headers["content-type"].startswith("text/html") and 'id="offline-data"' in page.text
    assert '"step": 20' in page.text  # opened at the step asked
    zipped = client.get(download(client, ids["zip"]))
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert [n.rsplit("-", 1)[-1] for n in names] == ["5.svg", "20.svg"]
    assert all(n.startswith(f"trace-{job_queue}-slide-") for n in names)


def test_bad_export_requests_are_refused_clearly(client, job_queue):
    cases = [({"format": "bmp"}, 422, "invalid-request"),
             ({"format": "png", "step": 9999}, 422, "invalid-request"),
             ({"format": "png", "size": "1x1"}, 422, "invalid-request"),
             ({"format": "gif", "bookmarks": list(range(100))}, 422, "invalid-request")]
    for body, status, kind in cases:
        response = client.post(f"/api/traces/{job_queue}/exports", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["kind"] == kind
    assert client.post("/api/traces/99999/exports", json={"format": "png"}).status_code == 404
    missing = client.get("/api/exports/" + "x" * 22)
    assert missing.status_code == 404 and missing.json()["error"]["kind"] == "not-found"


def test_too_many_waiting_exports_are_refused(client, job_queue):
    client.post("/api/traces", json={"name": "slow.py", "source": SLOW})  # holds the one thread
    answers = [client.post(f"/api/traces/{job_queue}/exports", json={"format": "svg", "step": 2})
               for _ in range(MAX_PENDING + 2)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(202) <= MAX_PENDING and 429 in statuses
    busy = answers[statuses.index(429)].json()["error"]
    assert busy["kind"] == "busy" and "try again" in busy["message"]
    for answer in answers:
        if answer.status_code == 202:
            assert finished(client, answer.json()["id"])["status"] == "done"
