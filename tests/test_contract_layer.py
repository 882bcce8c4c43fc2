"""The contract layer (harness/contract.py) against the healthy sandbox, a read-only session, and a
deliberately broken server (pytest-httpserver proxying the sandbox and corrupting one thing)."""
from __future__ import annotations

import time
from collections import Counter
from urllib.parse import unquote

import pytest
import requests

from tbconform.harness import contract
from tbconform.harness.catalog import Catalog
from tbconform.harness.context import Cleanup
from tbconform.harness.http import HarnessSession, TokenProvider
from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests.conftest import ROSTERING

RUN_ID = "tbctest"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(["oneroster"])


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(SandboxConfig()) as running:
        yield running


def session_for(target, base_url: str | None = None, writes: bool = True) -> HarnessSession:
    tokens = TokenProvider(target.token_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    return HarnessSession(base_url or target.base_url, tokens, writes_allowed=writes)


def by_id(results):
    return {r.id: r for r in results}


def alive_records(session: HarnessSession, catalog: Catalog, prefix: str) -> list[tuple[str, str]]:
    """Records whose id starts with `prefix` that are not (soft-)deleted, in every plain listing."""
    alive = []
    for op in catalog.ops:
        if op.action == "list" and op.is_plain:
            body = session.get(op.path, params={"filter": f"sourcedId~'{prefix}-'", "limit": 3000}).json()
            for key in op.response_keys:
                alive += [(op.collection, r["sourcedId"]) for r in body.get(key, [])
                          if r["sourcedId"].startswith(f"{prefix}-") and r.get("status") != "tobedeleted"]
    return alive


def test_every_oneroster_operation_passes_every_contract_check(sandbox, catalog):
    ops = contract.contract_operations(catalog, ["oneroster"])
    assert len(ops) == len(catalog.ops) >= 153
    session, cleanup = session_for(sandbox), Cleanup()
    started = time.perf_counter()
    results = []
    for op in ops:
        results += contract.run_operation(session, catalog, op, max_examples=2, seed=7, run_id=f"{RUN_ID}all",
                                          writes=True, cleanup=cleanup)
    elapsed = time.perf_counter() - started
    bad = [f"{r.id} {r.operation} [{r.status}]: {r.message}" for r in results if r.status in ("failed", "error")]
    assert not bad, "\n".join(bad)
    assert len(results) == len(ops) * len(contract.CASE_CHECKS)
    assert all(r.layer == "contract" and r.rule for r in results)
    passed = Counter(r.id for r in results if r.status == "passed")
    for name in ("not_a_server_error", "status_code_conformance", "response_schema_conformance",
                 "content_type_conformance", "positive_data_acceptance", "ignored_auth"):
        assert passed[f"contract.{name}"] >= len(ops) * 0.6, (name, passed[f"contract.{name}"])
    assert passed["contract.negative_data_rejection"] >= 100
    assert passed["contract.unsupported_method"] >= 50
    # Every record the run created carries the run id, and the cleanup removes them all.
    created = [unquote(path.rsplit("/", 1)[1]) for path, _ in cleanup.items]
    assert created and all(record.startswith(f"{RUN_ID}all-") for record in created), created[:5]
    assert alive_records(session, catalog, f"{RUN_ID}all"), "the run created nothing to clean up"
    assert cleanup.run(session) == []
    # Upserts keep the path's id whatever the body says, creates may keep the body's: all are gone.
    assert alive_records(session, catalog, f"{RUN_ID}all") == []
    print(f"{len(ops)} operations, {session.sent} requests, {len(created)} records cleaned up, {elapsed:.1f}s")


def test_stateful_sequences_pass_and_clean_up(sandbox, catalog):
    session, cleanup = session_for(sandbox), Cleanup()
    results = contract.run_stateful(session, catalog, "oneroster", max_examples=3, seed=7, run_id=f"{RUN_ID}st",
                                    cleanup=cleanup)
    assert len(results) == 3 * len(contract.STATEFUL_CHECKS)
    bad = [f"{r.id} {r.operation} [{r.status}]: {r.message}" for r in results if r.status in ("failed", "error")]
    assert not bad, "\n".join(bad)
    passed = Counter(r.id for r in results if r.status == "passed")
    assert passed["contract.stateful.not_a_server_error"] == 3
    assert session.writes_sent > 0
    created = [unquote(path.rsplit("/", 1)[1]) for path, _ in cleanup.items]
    assert all(record.startswith(f"{RUN_ID}st-") for record in created), created[:5]
    assert cleanup.run(session) == []
    assert alive_records(session, catalog, f"{RUN_ID}st") == []


def test_cleanup_discard_forgets_only_its_own_registration():
    cleanup = Cleanup()
    first = cleanup.add("/things/a", "a, created by a POST")
    again = cleanup.add("/things/a", "a, guessed for a PUT that was refused")
    other = cleanup.add("/things/b", "b")
    cleanup.discard([again])
    assert cleanup.items == [first, other] and cleanup.items[0] is first


def test_without_writes_no_write_request_is_sent(sandbox, catalog):
    session = session_for(sandbox, writes=False)
    ops = contract.contract_operations(catalog)
    writes = [op for op in ops if op.is_write]
    reads = [op for op in ops if not op.is_write][:6]
    results = []
    for op in writes + reads:
        results += contract.run_operation(session, catalog, op, max_examples=2, seed=3, run_id=RUN_ID,
                                          writes=False, cleanup=Cleanup())
    results += contract.run_stateful(session, catalog, "oneroster", max_examples=2, seed=3, run_id=RUN_ID,
                                     cleanup=Cleanup())
    assert session.writes_sent == 0
    labels = {op.label for op in writes}
    write_results = [r for r in results if r.operation in labels or r.id.startswith("contract.stateful.")]
    assert write_results and all(r.status == "skipped" and "--allow-writes" in r.message for r in write_results)
    read_results = [r for r in results if r.operation in {op.label for op in reads}]
    assert session.sent > 0 and not [r for r in read_results if r.status in ("failed", "error")]
    assert {r.status for r in read_results} >= {"passed"}

    # Writes asked for but the session guards a shared target: still nothing is sent.
    guarded = contract.run_operation(session, catalog, writes[0], max_examples=2, seed=3, run_id=RUN_ID,
                                     writes=True, cleanup=Cleanup())
    assert {r.status for r in guarded} == {"skipped"} and session.writes_sent == 0


# -- a deliberately broken server ---------------------------------------------------------------------
BROKEN = {
    # operation path → (what is broken, the one check that must fail)
    f"{ROSTERING}/users": ("totalCount as a string", "response_schema_conformance"),
    f"{ROSTERING}/orgs": ("500 instead of 400 on bad input", "not_a_server_error"),
    f"{ROSTERING}/academicSessions": ("serves requests without a token", "ignored_auth"),
    f"{ROSTERING}/classes": ("JSON labelled text/plain", "content_type_conformance"),
    f"{ROSTERING}/courses": ("undocumented 203 instead of 200", "status_code_conformance"),
}
# A 500 for bad input is also not the 4xx a schema-violating request must get.
COLLATERAL = {"not_a_server_error": {"negative_data_rejection"}}


def _proxy(sandbox, path: str, token: str):
    from werkzeug.wrappers import Response

    def handler(request):
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        if path.endswith("/academicSessions"):
            headers["Authorization"] = f"Bearer {token}"  # the bug: whatever the caller sent, it is let in
        upstream = requests.request(request.method, sandbox.base_url + request.full_path.rstrip("?"),
                                    headers=headers, data=request.get_data(), timeout=10)
        status, body = upstream.status_code, upstream.content
        ctype = upstream.headers.get("Content-Type", "application/json")
        if path.endswith("/users") and status == 200:
            data = upstream.json()
            data["totalCount"] = str(data["totalCount"])
            return Response(requests.compat.json.dumps(data), status=200, content_type="application/json")
        if path.endswith("/orgs") and status == 400:
            status = 500
        if path.endswith("/classes") and status == 200:
            ctype = "text/plain"
        if path.endswith("/courses") and status == 200:
            status = 203
        keep = {k: v for k, v in upstream.headers.items()
                if k.lower() in ("x-total-count", "link", "allow", "www-authenticate")}
        return Response(body, status=status, headers=keep, content_type=ctype)

    return handler


@pytest.fixture(scope="module")
def broken(sandbox):
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    token = sandbox.token()
    for path in BROKEN:
        server.expect_request(path).respond_with_handler(_proxy(sandbox, path, token))
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.mark.parametrize("path", list(BROKEN))
def test_broken_server_fails_exactly_the_expected_check(sandbox, broken, catalog, path):
    what, expected = BROKEN[path]
    op = next(o for o in catalog.ops if o.path == path and o.method == "GET")
    session = session_for(sandbox, base_url=broken.url_for("").rstrip("/"))
    results = contract.run_operation(session, catalog, op, max_examples=3, seed=11, run_id=RUN_ID,
                                     writes=True, cleanup=Cleanup())
    failed = {r.id.removeprefix("contract.") for r in results if r.status == "failed"}
    errors = [f"{r.id}: {r.message}" for r in results if r.status == "error"]
    assert not errors, errors
    assert expected in failed, f"{what}: expected contract.{expected} to fail, failed: {sorted(failed)}"
    assert failed <= {expected} | COLLATERAL.get(expected, set()), f"{what}: unexpected failures {sorted(failed)}"
    result = by_id(results)[f"contract.{expected}"]
    assert result.message and result.exchange is not None and result.exchange.url.startswith(session.base_url)
    assert result.operation == op.label and result.api == "oneroster" and result.layer == "contract"


def test_cleanup_journal_lets_another_process_finish(tmp_path, sandbox, catalog):
    """Under --workers the controller replays a worker's journal: what it registered and did not delete."""
    session = session_for(sandbox)
    journal = tmp_path / "gw0.jsonl"
    worker = Cleanup(journal=journal)
    ids = [f"{RUN_ID}jr-{n}" for n in range(3)]
    delete = catalog.plain("categories", "delete")
    create = catalog.plain("categories", "create")
    entries = []
    for record_id in ids:
        entries.append(worker.add(delete.path.replace("{sourcedId}", record_id), f"categories {record_id}"))
        body = {"category": {"sourcedId": record_id, "status": "active", "title": "journal", "weight": 1}}
        assert session.post(create.path, json=body).status_code in (200, 201)
    guessed = worker.add(delete.path.replace("{sourcedId}", f"{RUN_ID}jr-never"), "a refused write")
    worker.discard([guessed])
    # The worker deletes one record, then is stopped before the rest (as xdist stops it after Ctrl-C).
    worker.items = [entries[0]]
    assert worker.run(session) == []
    replayed = Cleanup.replay([journal, tmp_path / "missing.jsonl"])
    left = list(replayed.items)
    assert [path for path, _ in left] == [path for path, _ in entries[1:]]
    assert alive_records(session, catalog, f"{RUN_ID}jr") and replayed.run(session) == []
    assert alive_records(session, catalog, f"{RUN_ID}jr") == []
    journal.write_text(journal.read_text() + '["add", "/cut-sho')  # a line cut short by a killed worker
    assert Cleanup.replay([journal]).items == left


def test_ctrl_c_during_cleanup_waits_for_it_and_a_second_one_abandons_it(capsys):
    import os
    import signal

    from tbconform.harness.context import sigint_deferred

    finished = False
    with sigint_deferred(3):
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: noted, the deletions go on
        time.sleep(0.05)
        finished = True
    assert finished and "removing the 3 record(s)" in capsys.readouterr().err
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred(3):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)  # the second one abandons them
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_plugin_cleans_up_before_other_plugins_finish_the_session():
    from tbconform.harness.pytest_plugin import ConformanceRun

    first = ConformanceRun.pytest_sessionfinish_cleanup.pytest_impl
    last = ConformanceRun.pytest_sessionfinish.pytest_impl
    assert first["tryfirst"] and first["specname"] == "pytest_sessionfinish" and last["trylast"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_swallowed_by_a_gc_callback_is_raised_again():
    import gc
    import os
    import signal

    from tbconform.harness import context

    restore = context.watch_interrupts()

    def callback(phase, info):  # hypothesis registers one; CPython reports its exceptions as unraisable
        if phase == "start":
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)

    try:
        context.raise_if_interrupted()  # nothing pressed yet
        gc.callbacks.append(callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(callback)
        with pytest.raises(KeyboardInterrupt):
            context.raise_if_interrupted()
    finally:
        restore()
        context._INTERRUPTED.clear()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
