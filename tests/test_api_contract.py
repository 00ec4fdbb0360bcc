"""Schemathesis against the app (in process, over ASGI): every operation of the OpenAPI schema
gets generated requests, valid and invalid, in all of its phases (the schema's examples, coverage
of each parameter's edges, fuzzing, chains of calls); no answer is a server error, and every answer
keeps the contract: a documented status, a documented content type, a body matching its schema,
a 405 with `Allow` for an undocumented method.

Bounded to stay fast: a few examples an operation, a fixed seed, derandomized. Uploads create
real runs (a small step and time limit, one worker); the runs still queued at the end are
cancelled with the app's job manager."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from pyrona.server.app import create_app
from pyrona.server.settings import Limits, ServerSettings

ROOT = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = 10
CONFIG = {
    "seed": 20240612,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    "suppress-health-check": ["all"],
    "workers": 1,
    "operations": [{
        # A schema says an upload is a file, not that the file is UTF-8 Python text that is not
        # empty: a valid-looking upload may still be refused for what it holds (documented).
        "include-name": "POST /api/traces",
        "checks": {"positive_data_acceptance": {"expected-statuses": ["201", "400", "404", "413"]}},
    }],
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on a fresh store holding one trace (id 1, the schema's example), run for real."""
    settings = ServerSettings(db=tmp_path_factory.mktemp("contract") / "traces.db",
                              limits=Limits(cpu_seconds=2, wall_seconds=5, max_steps=2_000), workers=1)
    app = create_app(settings)
    jobs = app.state.jobs
    trace = jobs.submit("job_queue.py", (ROOT / "sample_programs" / "job_queue.py").read_text())
    assert trace == 1 and jobs.wait(trace, 60)
    yield app
    jobs.shutdown()  # (the runs the test queued: cancelled)


def failures_of(event: events.ScenarioFinished) -> list[str]:
    found = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            case = event.recorder.cases[case_id].value
            interaction = event.recorder.interactions.get(case_id)
            status = interaction.response.status_code if interaction and interaction.response else None
            failure = check.failure_info.failure
            found.append(f"{event.phase.name} {event.label}: {check.name}: {failure.title} "
                         f"({case.method} {case.formatted_path} query={case.query} "
                         f"media_type={case.media_type} -> {status})\n{failure.message}")
    return found


def test_the_api_keeps_its_contract(app):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app,
                                            config=SchemathesisConfig.from_dict(CONFIG))
    failures, errors, operations, requests = [], [], set(), 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            failures += failures_of(event)
            requests += len(event.recorder.interactions)
            if event.label:
                operations.add(event.label)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(str(event.info) if hasattr(event, "info") else repr(event))
    assert not errors, "\n\n".join(errors)
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(dict.fromkeys(failures))
    assert len(operations) == 22 and requests > 300, (operations, requests)  # it did test them all
