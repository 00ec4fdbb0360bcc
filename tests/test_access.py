"""Public mode (`pyrona serve --public`, server/access.py): token URLs, per-session lists and
deletes, `--shared`; local mode unchanged; a version 1 store migrated (and read as it is)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from pyrona.server.app import create_app
from pyrona.server.settings import Limits, ServerSettings
from pyrona.trace_commands import serve_notice
from pyrona.tracer.store import StoreError, TraceStore

PROGRAM = {"name": "mine.py", "source": "from pyrona import Region\nr = Region()\nr.x = [1]\nprint(1)\n"}


def settings(tmp_path, **options) -> ServerSettings:
    return ServerSettings(db=tmp_path / "traces.db", limits=Limits(cpu_seconds=10, wall_seconds=30),
                          **options)


def upload(client: TestClient) -> str:
    answer = client.post("/api/traces", json=PROGRAM)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """A public server with the job_queue sample traced by the server, and two browsers."""
    folder = tmp_path_factory.mktemp("public")
    app = create_app(settings(folder, public=True))
    sample = app.state.jobs.submit("job_queue.py", (app.state.settings.samples / "job_queue.py").read_text())
    assert app.state.jobs.wait(sample, 60)
    with TestClient(app) as alice, TestClient(app) as bob:
        mine = upload(alice)
        internal = [i.id for i in app.state.jobs.write(lambda s: s.traces()) if i.token == mine][0]
        assert app.state.jobs.wait(internal, 60)
        yield alice, bob, mine, internal


def test_public_uses_tokens_and_a_session_cookie(public):
    alice, _bob, mine, internal = public
    assert isinstance(mine, str) and len(mine) >= 22 and not mine.isdigit()
    cookie = alice.cookies.get("pyrona_session")
    assert cookie and len(cookie) >= 43
    answer = TestClient(alice.app).get("/")  # a new browser: a new session, set as it should be
    header = answer.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    info = alice.get(f"/api/traces/{mine}").json()
    assert info["id"] == mine and info["status"] == "done"
    for path in (f"/api/traces/{mine}/steps", f"/api/traces/{mine}/steps/0", f"/api/traces/{mine}/source",
                 f"/api/traces/{mine}/timeline", f"/traces/{mine}", f"/traces/{mine}/timeline"):
        assert alice.get(path).status_code == 200, path
    export = alice.get(f"/api/traces/{mine}/export?format=md")
    assert f"trace-{mine}.md" in export.headers["content-disposition"]


def test_public_integer_urls_are_404(public):
    alice, _bob, _mine, internal = public
    for path in (f"/api/traces/{internal}", f"/api/traces/{internal}/steps", f"/traces/{internal}",
                 f"/api/traces/{internal}/steps/0", "/api/traces/1"):
        answer = alice.get(path)
        assert answer.status_code == 404, path
    assert alice.delete(f"/api/traces/{internal}").status_code == 404
    assert alice.get("/api/traces/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404  # a token's shape, no trace


def test_public_lists_the_samples_and_the_sessions_own_traces(public):
    alice, bob, mine, _internal = public
    alices = [t["id"] for t in alice.get("/api/traces").json()["traces"]]
    bobs = [t["id"] for t in bob.get("/api/traces").json()["traces"]]
    sample = [s["trace"] for s in bob.get("/api/samples").json()["samples"] if s["name"] == "job_queue"][0]
    assert isinstance(sample, str)
    assert mine in alices and sample in alices
    assert mine not in bobs and bobs == [sample]
    assert all(isinstance(ref, str) for ref in alices)


def test_public_an_upload_named_like_a_sample_does_not_stand_for_it(public):
    _alice, bob, _mine, _internal = public
    answer = bob.post("/api/traces", json={"name": "cowns.py", "source": "print('not the sample')\n"})
    ref = answer.json()["id"]
    trace = [i.id for i in bob.app.state.jobs.write(lambda s: s.traces()) if i.token == ref][0]
    assert bob.app.state.jobs.wait(trace, 60)
    cowns = [s for s in bob.get("/api/samples").json()["samples"] if s["name"] == "cowns"][0]
    assert cowns["trace"] is None  # the server never traced it: an upload does not take its place
    assert bob.delete(f"/api/traces/{ref}").status_code == 204


def test_public_delete_by_the_creator_only(public):
    alice, bob, _mine, _internal = public
    ref = upload(alice)
    assert bob.delete(f"/api/traces/{ref}").status_code == 403  # another session, token known
    assert alice.get(f"/api/traces/{ref}").status_code == 200
    assert alice.delete(f"/api/traces/{ref}").status_code == 204  # a queued or running one is stopped
    assert alice.get(f"/api/traces/{ref}").status_code == 404
    sample = [s["trace"] for s in alice.get("/api/samples").json()["samples"] if s["name"] == "job_queue"][0]
    assert alice.delete(f"/api/traces/{sample}").status_code == 403  # the server's own: nobody


def test_shared_lists_every_trace(tmp_path):
    app = create_app(settings(tmp_path, public=True, shared=True))
    with TestClient(app) as alice, TestClient(app) as bob:
        ref = upload(alice)
        assert ref in [t["id"] for t in bob.get("/api/traces").json()["traces"]]
        assert bob.delete(f"/api/traces/{ref}").status_code == 403  # listed, still not bob's to delete
        assert alice.delete(f"/api/traces/{ref}").status_code == 204


def test_local_mode_is_unchanged(tmp_path):
    with TestClient(create_app(settings(tmp_path))) as client, \
         TestClient(client.app) as other:
        trace = upload(client)
        assert isinstance(trace, int)
        assert "set-cookie" not in client.get("/").headers
        assert other.get(f"/api/traces/{trace}").json()["id"] == trace
        assert trace in [t["id"] for t in other.get("/api/traces").json()["traces"]]
        assert other.delete(f"/api/traces/{trace}").status_code == 204


def test_serve_says_where_it_listens():
    assert "127.0.0.1 only" in serve_notice("127.0.0.1", False, False)
    assert "WARNING" in serve_notice("0.0.0.0", False, False)
    assert "public mode" in serve_notice("0.0.0.0", True, False)
    assert "every trace listed" in serve_notice("0.0.0.0", True, True)


def version_1_store(path) -> None:
    """A store as version 1 wrote it: no token or owner column."""
    store = TraceStore(path)
    store.create_trace("old.py", {"old.py": "x = 1\n"})
    store.close()
    db = sqlite3.connect(path)
    db.executescript("DROP INDEX traces_token; DROP INDEX traces_owner; "
                     "ALTER TABLE traces DROP COLUMN token; ALTER TABLE traces DROP COLUMN owner; "
                     "UPDATE meta SET value = '1' WHERE key = 'schema';")
    db.close()


def test_a_version_1_store_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "old.db"
    version_1_store(path)
    for readonly in (True, False):
        with pytest.raises(StoreError, match=r"schema version 1, older than this pyrona's \(version \d+\)"):
            TraceStore(path, readonly=readonly)
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "1"
    assert db.execute("SELECT name FROM traces").fetchall() == [("old.py",)]
    db.close()
