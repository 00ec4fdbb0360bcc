"""The JSON API of the contract (server/README.md) against a real app on a temporary store, with the
samples run for real through the sandbox: every endpoint, and bad input answered by a clear 4xx
`{"error": {"kind", "message"}}` that loses nothing already stored."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from pyrona.server.app import create_app
from pyrona.server.settings import Limits, ServerSettings

SAMPLES = ("job_queue", "nested_regions", "frozen_config")
STEP_VIEW = {"trace", "index", "total", "file", "line", "event", "source_line", "nodes", "edges", "fields",
             "regions", "events", "stack", "stdout", "stderr", "lines_run", "thread", "threaded", "behaviour"}
TRACE_INFO = {"id", "name", "status", "steps", "message", "created", "truncated", "summary"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = ServerSettings(db=tmp_path_factory.mktemp("api") / "traces.db",
                              limits=Limits(cpu_seconds=10, wall_seconds=30), workers=3)
    with TestClient(create_app(settings)) as client:
        yield client


def wait(client: TestClient, trace: int) -> dict:
    assert client.app.state.jobs.wait(trace, 60)
    return client.get(f"/api/traces/{trace}").json()


@pytest.fixture(scope="module")
def traced(client) -> dict[str, int]:
    """The samples, run through the API."""
    ids = {}
    for name in SAMPLES:
        response = client.post("/api/traces", json={"sample": name})
        assert response.status_code == 201
        assert response.headers["location"] == f"/api/traces/{response.json()['id']}"
        ids[name] = response.json()["id"]
    for trace in ids.values():
        assert wait(client, trace)["status"] == "done"
    return ids


@pytest.fixture(scope="module")
def snapshot(client, traced):
    """What the samples' traces hold before any bad request: it must never change."""
    def take() -> str:
        listed = {t["id"] for t in client.get("/api/traces").json()["traces"]}
        parts = [sorted(set(traced.values()) & listed)]
        for trace in traced.values():
            parts += [client.get(f"/api/traces/{trace}{part}").json()
                      for part in ("", "/steps/3", "/source", "/timeline")]
        return json.dumps(parts, sort_keys=True)
    return take, take()


def problem(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["kind"] == kind and error["message"], error
    return error["message"]


# --- traces ---

def test_samples_are_listed_with_their_traces(client, traced):
    samples = {s["name"]: s for s in client.get("/api/samples").json()["samples"]}
    assert set(SAMPLES) <= set(samples)
    job_queue = samples["job_queue"]
    assert job_queue["title"] == "A job queue in a region" and "region" in job_queue["description"]
    assert job_queue["chapter"] == "Programs" and job_queue["thumbnail"] is not None
    assert job_queue["trace"] == traced["job_queue"]


def test_traces_are_listed_newest_first(client, traced):
    listed = client.get("/api/traces").json()["traces"]
    assert [t["id"] for t in listed] == sorted((t["id"] for t in listed), reverse=True)
    assert set(traced.values()) <= {t["id"] for t in listed}
    assert all(set(t) == TRACE_INFO for t in listed)


def test_trace_info(client, traced):
    info = client.get(f"/api/traces/{traced['job_queue']}").json()
    assert set(info) == TRACE_INFO
    assert (info["name"], info["status"], info["message"]) == ("job_queue.py", "done", "")
    assert info["steps"] > 10 and info["summary"]["violations"] == 1 and info["summary"]["regions"] == 2
    assert info["summary"]["sandbox"] == client.app.state.jobs.mode()  # how it was isolated


def test_upload_a_file_or_json_source(client):
    uploaded = client.post("/api/traces", files={"file": ("hello.py", b"hi = ['hi']\nprint(hi)\n")})
    assert uploaded.status_code == 201
    sent = client.post("/api/traces", json={"name": "two.py", "source": "x = 1\ny = [x]\n"})
    assert sent.status_code == 201
    for response, name in ((uploaded, "hello.py"), (sent, "two.py")):
        info = wait(client, response.json()["id"])
        assert (info["name"], info["status"]) == (name, "done")


def test_progress_streams_until_the_run_ends(client):
    source = "n = 0\nfor i in range(500):\n    n += i\n"
    trace = client.post("/api/traces", json={"name": "count.py", "source": source}).json()["id"]
    with client.stream("GET", f"/api/traces/{trace}/progress") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    events = [json.loads(line[len("data: "):]) for line in lines]
    assert all(set(e) == {"status", "steps", "elapsed", "message"} for e in events)
    assert events[-1]["status"] == "done" and events[-1]["steps"] > 500
    # a finished trace: one event, then the stream ends
    with client.stream("GET", f"/api/traces/{trace}/progress") as stream:
        [line] = [line for line in stream.iter_lines() if line]
    assert json.loads(line[len("data: "):]) == events[-1]


def test_delete_stops_a_running_trace_first(client, traced, snapshot):
    slow = {"name": "slow.py", "source": "import time\ntime.sleep(60)\n"}
    trace = client.post("/api/traces", json=slow).json()["id"]
    for _ in range(100):
        if client.get(f"/api/traces/{trace}").json()["status"] == "running":
            break
        client.app.state.jobs.wait(trace, 0.1)
    assert client.delete(f"/api/traces/{trace}").status_code == 204
    problem(client.get(f"/api/traces/{trace}"), 404, "not-found")
    problem(client.delete(f"/api/traces/{trace}"), 404, "not-found")
    take, before = snapshot
    assert take() == before


# --- one trace's data ---

def test_source_paths_are_relative(client, traced):
    files = client.get(f"/api/traces/{traced['job_queue']}/source").json()["files"]
    assert files[0]["file"] == 0 and files[0]["path"] == "job_queue.py"
    assert "class Job" in files[0]["source"]
    assert all(not f["path"].startswith("/") and "scratch" not in f["path"] for f in files)


def test_steps_without_their_graphs(client, traced):
    body = client.get(f"/api/traces/{traced['job_queue']}/steps?first=2&count=3").json()
    assert body["total"] > 10 and [s["index"] for s in body["steps"]] == [2, 3, 4]
    assert all(set(s) == {"index", "file", "line", "event"} and s["file"] == 0 for s in body["steps"])
    assert client.get(f"/api/traces/{traced['job_queue']}/steps?first=100000&count=5").json()["steps"] == []


def test_a_step_view(client, traced):
    trace = traced["job_queue"]
    total = client.get(f"/api/traces/{trace}").json()["steps"]
    view = client.get(f"/api/traces/{trace}/steps/{total - 1}").json()
    assert set(view) == STEP_VIEW
    assert (view["thread"], view["threaded"], view["behaviour"]) == ("MainThread", False, None)  # one thread
    assert (view["trace"], view["index"], view["total"], view["file"]) == (trace, total - 1, total, 0)
    source = client.get(f"/api/traces/{trace}/source").json()["files"][0]["source"].splitlines()
    assert view["source_line"] == source[view["line"] - 1]
    assert "refused: region-violation" in view["stdout"] and view["stderr"] == ""
    assert view["line"] in view["lines_run"] and view["lines_run"] == sorted(set(view["lines_run"]))
    main = view["stack"][0]
    assert main["label"] == "__main__"
    variables = {v["name"]: v for v in main["locals"]}
    assert {"queue", "audit", "Job"} <= set(variables) and "ref" in variables["audit"]
    assert variables["queue"] == {"name": "queue", "value": "None"}  # close() cleared it
    assert {n["id"] for n in view["nodes"]} >= {e["src"] for e in view["edges"]}
    assert {r["rid"] for r in view["regions"]} == {1, 2}


def test_mermaid_of_a_step(client, traced):
    base = f"/api/traces/{traced['nested_regions']}/steps/8/mermaid"
    text = client.get(base)
    assert text.headers["content-type"].startswith("text/plain") and "graph TD" in text.text
    collapsed = client.get(f"{base}?collapse=1&changes=0&structure=1&unreachable=1&frozen=0&cowns=0").text
    assert "graph TD" in collapsed and collapsed != text.text


def test_sccs_of_a_step(client, traced):
    trace = traced["frozen_config"]
    total = client.get(f"/api/traces/{trace}").json()["steps"]
    body = client.get(f"/api/traces/{trace}/steps/{total - 1}/sccs").json()
    assert set(body) == {"sccs", "edges", "mermaid"} and body["sccs"]
    assert all(set(s) == {"id", "nodes", "size", "external_refs", "cyclic"} for s in body["sccs"])
    assert body["mermaid"].startswith("graph TD")
    assert client.get(f"/api/traces/{trace}/steps/0/sccs").json() == {"sccs": [], "edges": [], "mermaid": ""}


def test_analysis_explains_the_violation(client, traced):
    trace = traced["job_queue"]
    [violation] = client.get(f"/api/traces/{trace}/events?kinds=violation").json()["events"]
    body = client.get(f"/api/traces/{trace}/steps/{violation['step']}/analysis").json()
    assert set(body) == {"summary", "invariants", "unreachable", "suggestions", "violation"}
    assert body["summary"]["step"] == violation["step"]
    assert "another region" in body["violation"]["message"]
    assert body["violation"]["path"][-1]["dst"] == violation["dst"]
    assert client.get(f"/api/traces/{trace}/steps/0/analysis").json()["violation"] is None


def test_timeline(client, traced):
    trace = traced["nested_regions"]
    body = client.get(f"/api/traces/{trace}/timeline").json()
    assert body["steps"] == client.get(f"/api/traces/{trace}").json()["steps"]
    assert body["regions"] and all(set(r) >= {"rid", "name", "spans"} for r in body["regions"])
    for lane in body["regions"]:
        for span in lane["spans"]:
            assert 0 <= span["start"] < span["end"] <= body["steps"]
            assert set(span) == {"start", "end", "open", "parent", "lrc", "sbrc"}
    assert {"merged", "dissolved"} <= {e["kind"] for e in body["events"]}


def test_events_by_kind(client, traced):
    trace = traced["nested_regions"]
    everything = client.get(f"/api/traces/{trace}/events").json()["events"]
    some = client.get(f"/api/traces/{trace}/events?kinds=merged,dissolved").json()["events"]
    assert some and {e["kind"] for e in some} <= {"merged", "dissolved"} and len(some) < len(everything)


@pytest.mark.parametrize("fmt, kind, marker", [
    ("md", "text/markdown", "```mermaid"), ("json", "application/json", '"steps": ['),
    ("mermaid", "text/plain", "graph TD"), ("html", "text/html", 'id="offline-data"')])
def test_exports(client, traced, fmt, kind, marker):
    response = client.get(f"/api/traces/{traced['job_queue']}/export?format={fmt}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    assert "attachment" in response.headers["content-disposition"] and marker in response.text
    if fmt == "json":
        total = client.get(f"/api/traces/{traced['job_queue']}").json()["steps"]
        assert len(response.json()["steps"]) == total
    if fmt == "html":  # the viewer itself, nothing fetched: every script and style inline
        markup = re.sub(r"<script>.*?</script>", "", response.text, flags=re.DOTALL)
        assert not re.search(r"""<(script|link|img)[^>]*(src|href)="(?!data:)""", markup)
        assert 'id="stage"' in response.text and "mermaid.initialize" in response.text


def test_openapi_documents_the_api(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/samples", "/api/traces", "/api/traces/{trace}", "/api/traces/{trace}/progress",
                 "/api/traces/{trace}/source", "/api/traces/{trace}/steps", "/api/traces/{trace}/steps/{n}",
                 "/api/traces/{trace}/steps/{n}/mermaid", "/api/traces/{trace}/steps/{n}/sccs",
                 "/api/traces/{trace}/steps/{n}/analysis", "/api/traces/{trace}/timeline",
                 "/api/traces/{trace}/events", "/api/traces/{trace}/export"):
        assert path in paths


# --- bad input: a clear 4xx, nothing lost ---

def upload(client, name: str, data: bytes):
    return client.post("/api/traces", files={"file": (name, data)})


JSON = {"content-type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads: RecursionError, once a 500


def chunked(total: int):
    """A body sent in chunks, without a Content-Length."""
    return iter([b"x" * 100_000] * (total // 100_000))


@pytest.mark.parametrize("send, status, kind, words", [
    (lambda c: upload(c, "empty.py", b""), 400, "empty", "empty.py is empty"),
    (lambda c: upload(c, "blank.py", b"  \n\n"), 400, "empty", "is empty"),
    (lambda c: upload(c, "huge.py", b"x = 1\n" * 1_700_000), 413, "too-large", "limit"),
    (lambda c: upload(c, "image.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 400, "binary", "binary"),
    (lambda c: upload(c, "latin.py", "print('café')\n".encode("latin-1")), 400, "not-utf8", "byte 0xe9"),
    (lambda c: upload(c, "notes.txt", b"print(1)\n"), 400, "bad-name", "ending in .py"),
    (lambda c: c.post("/api/traces", files={"other": ("a.py", b"x = 1\n")}), 400, "bad-upload", "'file'"),
    (lambda c: c.post("/api/traces", json={"name": "a.py", "source": ""}), 400, "empty", "empty"),
    (lambda c: c.post("/api/traces", json={"name": "a.py", "source": "x\x00"}), 400, "binary", "NUL"),
    (lambda c: c.post("/api/traces", json={"name": "a.py", "source": 3}), 400, "bad-json", "strings"),
    (lambda c: c.post("/api/traces", json=[1, 2]), 400, "bad-json", "sample"),
    (lambda c: c.post("/api/traces", json={"sample": "../../etc/passwd"}), 404, "unknown-sample", "sample"),
    (lambda c: c.post("/api/traces", content=b"{not json", headers={"content-type": "application/json"}),
     400, "bad-json", "not JSON"),
    (lambda c: c.post("/api/traces", content=b"x = 1", headers={"content-type": "text/x-python"}),
     415, "unsupported-media-type", "multipart"),
    (lambda c: c.post("/api/traces", content=DEEP, headers=JSON), 400, "bad-json", "nested too deeply"),
    (lambda c: c.post("/api/traces", content=b'{"name": "a.py", "source": "x = 1", "extra": ' + DEEP + b"}",
                      headers=JSON), 400, "bad-json", "nested too deeply"),
    (lambda c: c.post("/api/traces", content=b'{"sample": ' + DEEP + b"}", headers=JSON),
     400, "bad-json", "nested too deeply"),
    (lambda c: c.post("/api/traces", content=b"", headers=JSON), 400, "empty", "body is empty"),
    (lambda c: c.post("/api/traces"), 400, "empty", "no body"),
    (lambda c: c.post("/api/traces", content=b"\xff\xfe{}", headers=JSON), 400, "bad-json", "not JSON"),
    (lambda c: c.post("/api/traces", json={"sample": "job_queue", "source": "x = 1"}), 400, "bad-json",
     "not both"),
    # a message quoting a name with a lone surrogate (once a 500: it could not be encoded)
    (lambda c: c.post("/api/traces", content=b'{"name": "\\ud800.py", "source": "x\\u0000"}', headers=JSON),
     400, "binary", "\\ud800.py"),
    (lambda c: c.post("/api/traces", content=chunked(5_000_000), headers=JSON), 413, "too-large", "limit"),
    (lambda c: c.post("/api/traces", content=chunked(2_000_000),
                      headers={"content-type": "multipart/form-data; boundary=x"}),
     413, "too-large", "limit"),
    (lambda c: c.post("/api/traces", json={"name": "big.py", "source": "x = 1\n" * 1_700_000}),
     413, "too-large", "limit"),
    (lambda c: c.get("/api/traces/9999"), 404, "not-found", "no trace 9999"),
    (lambda c: c.get("/api/no-such-thing"), 404, "not-found", "Not Found"),
    (lambda c: c.put("/api/traces"), 405, "method-not-allowed", "Not Allowed"),
    (lambda c: c.get("/api/traces/0"), 422, "invalid-request", "trace"),
    (lambda c: c.get("/api/traces/9223372036854775808"), 422, "invalid-request", "trace"),
    (lambda c: c.get("/api/traces/1/steps?first=99999999999999999999999"), 422, "invalid-request", "first"),
    (lambda c: c.get("/api/traces/nine"), 422, "invalid-request", "trace"),
    (lambda c: c.get("/api/traces/1/steps?count=-1"), 422, "invalid-request", "count"),
    (lambda c: c.get("/api/traces/1/steps?first=first"), 422, "invalid-request", "first"),
    (lambda c: c.get("/api/traces/1/steps/3/mermaid?frozen=maybe"), 422, "invalid-request", "frozen"),
    (lambda c: c.get("/api/traces/1/steps/3/mermaid?group=1&open=12,x"), 422, "invalid-request", "open"),
    (lambda c: c.get("/api/traces/1/events?kinds=violation,DROP%20TABLE"), 422, "invalid-request", "kind"),
    (lambda c: c.get("/api/traces/1/events?kinds=violation,"), 422, "invalid-request", "kind"),
    (lambda c: c.get("/api/traces/1/export?format=pdf"), 422, "invalid-request", "format"),
    (lambda c: c.get("/api/traces/1/export?format=md&count=0"), 422, "invalid-request", "count"),
])
def test_bad_input_gets_a_clear_4xx_and_loses_nothing(client, snapshot, send, status, kind, words):
    assert words in problem(send(client), status, kind)
    take, before = snapshot
    assert take() == before


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/api/traces", "GET, POST"), ("PATCH", "/api/traces/1", "GET, DELETE"),
    ("TRACE", "/api/samples", "GET"), ("POST", "/api/traces/1/steps/0/mermaid", "GET"),
    ("POST", "/traces/1", "GET"), ("DELETE", "/", "GET"), ("POST", "/static/app.css", "GET, HEAD")])
def test_a_wrong_method_is_405_with_allow(client, method, path, allow):
    response = client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allow
    if path.startswith("/api/"):
        problem(response, 405, "method-not-allowed")
    else:
        assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("page", ["/traces/{}", "/traces/{}/timeline", "/traces/{}/sccs",
                                  "/traces/{}?step=99999999999999999999999"])
@pytest.mark.parametrize("trace", [9223372036854775808, 2**62 + 1, 10**30, 0, -1, 424242])
def test_a_page_of_no_trace_is_404(client, page, trace):
    """Ids past what SQLite holds were once a 500 (OverflowError): the pages bound them as the API does."""
    response = client.get(page.format(trace))
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert f"There is no trace {trace}." in response.text


@pytest.mark.parametrize("page", ["/traces/{}", "/traces/{}/timeline", "/traces/{}/sccs"])
@pytest.mark.parametrize("step", ["99999999999999999999999", "-99999999999999999999999", "0"])
def test_a_page_opens_any_step_asked_within_its_trace(client, traced, page, step):
    response = client.get(page.format(traced["job_queue"]), params={"step": step})
    assert response.status_code == 200 and "job_queue.py" in response.text
    assert client.get(page.format(traced["job_queue"]), params={"step": "x"}).status_code == 422


def test_openapi_documents_errors_and_content_types(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    upload = paths["/api/traces"]["post"]
    assert upload["requestBody"]["required"] is True
    assert set(upload["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"201", "400", "404", "413", "415"} <= set(upload["responses"])
    for path, operations in paths.items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
            if "{trace}" in path:
                assert {"404", "422"} <= set(errors), (method, path)
            for status, answer in errors.items():
                assert answer["content"] == {"application/json": {"schema": problem_ref}}, (path, status)
    progress = paths["/api/traces/{trace}/progress"]["get"]["responses"]["200"]["content"]
    assert list(progress) == ["text/event-stream"]
    assert progress["text/event-stream"]["itemSchema"]["properties"]["data"]["contentSchema"]["required"] == [
        "status", "steps", "elapsed", "message"]
    export = paths["/api/traces/{trace}/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/markdown", "application/json", "text/plain", "text/html"}
    assert list(paths["/api/traces/{trace}/steps/{n}/mermaid"]["get"]["responses"]["200"]["content"]) == [
        "text/plain"]


@pytest.mark.parametrize("path", ["", "/source", "/steps", "/steps/0", "/steps/0/mermaid", "/steps/0/sccs",
                                  "/steps/0/analysis", "/timeline", "/events", "/export", "/progress"])
def test_every_endpoint_of_an_unknown_trace_is_404(client, snapshot, path):
    problem(client.get(f"/api/traces/424242{path}"), 404, "not-found")
    take, before = snapshot
    assert take() == before


@pytest.mark.parametrize("suffix", ["", "/mermaid", "/sccs", "/analysis"])
def test_a_step_out_of_range_is_404(client, traced, snapshot, suffix):
    trace = traced["job_queue"]
    total = client.get(f"/api/traces/{trace}").json()["steps"]
    for n in (total, total + 1000, -1):
        message = problem(client.get(f"/api/traces/{trace}/steps/{n}{suffix}"), 404, "step-out-of-range")
        assert f"steps 0 to {total - 1}" in message and f"no step {n}" in message
    take, before = snapshot
    assert take() == before


def test_a_syntax_error_ends_the_run_failed_and_keeps_the_trace(client, snapshot):
    response = upload(client, "broken.py", b"x = 1\ndef f(:\n    pass\n")
    assert response.status_code == 201
    info = wait(client, response.json()["id"])
    assert info["status"] == "failed" and info["message"] == "SyntaxError: invalid syntax (line 2)"
    source = client.get(f"/api/traces/{info['id']}/source").json()["files"]
    assert source == [{"file": 0, "path": "broken.py", "source": "x = 1\ndef f(:\n    pass\n"}]
    assert client.get(f"/api/traces/{info['id']}/steps").json() == {"total": 0, "steps": []}
    problem(client.get(f"/api/traces/{info['id']}/steps/0"), 404, "step-out-of-range")
    problem(client.get(f"/api/traces/{info['id']}/export"), 404, "no-steps")
    take, before = snapshot
    assert take() == before


def test_the_mermaid_bundle_is_served_by_us_and_cached(client):
    response = client.get("/vendor/mermaid/mermaid.min.js")
    assert response.status_code == 200 and len(response.content) > 1_000_000
    assert response.headers["cache-control"] == "public, max-age=86400"


def test_names_with_lone_surrogates_are_served(client):
    """A program may name an attribute with a lone surrogate, which UTF-8 cannot hold: the
    step's JSON holds it escaped (as JSON allows), its diagram and its export are served."""
    source = 'class A:\n    pass\n\na = A()\nsetattr(a, "\\ud800x", 1)\nb = 2\n'
    trace = client.post("/api/traces", json={"name": "odd.py", "source": source}).json()["id"]
    total = wait(client, trace)["steps"]
    view = client.get(f"/api/traces/{trace}/steps/{total - 1}")
    assert view.status_code == 200
    [a] = [v["ref"] for v in view.json()["stack"][0]["locals"] if v["name"] == "a"]
    assert {"node": a, "name": "\ud800x", "value": "1"} in view.json()["fields"]
    diagram = client.get(f"/api/traces/{trace}/steps/{total - 1}/mermaid")
    assert diagram.status_code == 200 and "graph TD" in diagram.text
    for kind in ("json", "html"):
        assert client.get(f"/api/traces/{trace}/export?format={kind}").status_code == 200
