"""pytest plugin: the conformance suite inside any pytest run.

    pytest --tbconform-target https://api.staging.alpha-1edtech.ai -m oneroster

The suite is collected only when `--tbconform` or `--tbconform-target` (or TIMEBACK_API_URL with
`--tbconform`) is given, so the plugin is inert in other test runs. One marker per API.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tbconform.harness.options import RUN_OPTIONS

SUITE = Path(__file__).parent / "suite" / "test_tbconform.py"
SUITE_MODULE = f"{__package__}.suite.test_tbconform"
RESULTS_KEY = "tbconform_results"
# Between the parts of a parameter id (`<rule id>|<op>`, `contract|<op>`, `stateful|<doc>`). Not "::":
# pytest and allure-pytest split node ids on "::", which broke Allure's test names and suites.
PARAM_SEP = "|"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tbconform", "Timeback API conformance (tbconform)")
    group.addoption("--run-heavy", action="store_true", default=False, help="run tests marked heavy in full")
    group.addoption("--tbconform", action="store_true", default=False,
                    help="collect the conformance suite (implied by --tbconform-target)")
    for option in RUN_OPTIONS:
        kwargs = option.kwargs()
        kwargs["dest"] = f"tbconform_{option.dest}"
        if option.name == "report-dir":  # inside a team's own pytest, reports only when asked for
            kwargs["default"] = None
        group.addoption(f"--tbconform-{option.name}", **kwargs)
    group.addoption("--tbconform-run-id", metavar="ID", help="prefix of records the run creates (default random)")


@pytest.fixture(scope="session")
def tbconform(request: pytest.FixtureRequest) -> "ConformanceRun":
    """The running conformance run (sessions, catalog, results) for the suite's tests."""
    run = request.config.pluginmanager.get_plugin("tbconform-run")
    if run is None:
        pytest.skip("the tbconform suite runs only with --tbconform or --tbconform-target")
    return run


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("--tbconform") or config.getoption("--tbconform-target"))


def pytest_configure(config: pytest.Config) -> None:
    from tbconform.specs.loader import available_apis

    for api in available_apis():
        config.addinivalue_line("markers", f"{api}: conformance checks of the {api} API (tbconform)")
    config.addinivalue_line("markers", "contract: tbconform contract layer (schemathesis)")
    config.addinivalue_line("markers", "semantic: tbconform semantic rules")
    if not _active(config):
        return
    run = ConformanceRun.from_pytest(config)
    config.pluginmanager.register(run, "tbconform-run")
    from tbconform.harness.context import watch_interrupts

    config.add_cleanup(watch_interrupts())
    if str(SUITE) not in config.args:
        config.args.append(str(SUITE))


class _SuiteModule(pytest.Module):
    """The suite file, imported by its package name rather than by its path.

    pytest's default (prepend) import derives a module name from the folders above the file,
    which would be `harness.suite.test_tbconform` and clash with a team's own `harness` package.
    """

    def _getobj(self):  # type: ignore[override]
        return importlib.import_module(SUITE_MODULE)


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Our own folders are plain directories to pytest: a `Package` node would import their
    `__init__.py` under a path-derived name (`harness`), which a team's package may own."""
    if path in (SUITE.parent, SUITE.parent.parent):
        return pytest.Dir.from_parent(parent, path=path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if module_path == SUITE:
        return _SuiteModule.from_parent(parent, path=module_path)
    return None


def _xdist_workers(config: pytest.Config) -> int:
    """The number of pytest-xdist workers of this session (1 without xdist)."""
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT") or config.getoption("numprocesses", None)
    try:
        return max(1, int(count)) if count else 1
    except (TypeError, ValueError):
        return 1


class ConformanceRun:
    """State of one conformance run inside pytest: sessions, catalog, results, cleanup."""

    def __init__(self, config: Any, pytest_config: pytest.Config | None = None) -> None:
        from tbconform.harness.catalog import Catalog
        from tbconform.harness.context import CheckContext, Cleanup
        from tbconform.harness.http import HarnessSession, TokenProvider

        self.config = config
        self.pytest_config = pytest_config
        self.catalog = Catalog.load(config.apis)
        target = config.target.rstrip("/")
        auth_url = config.auth_url or f"{target}/oauth2/token"
        tokens = TokenProvider(auth_url, config.client_id, config.client_secret) if config.client_id else None
        # Under xdist every worker has its own session: each gets its share of the run's rate cap.
        rate = config.worker_rate_limit(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))
        self.session = HarnessSession(target, tokens, config.writes_enabled, rate, timeout=config.request_timeout)
        readonly = None
        if config.readonly_client_id and config.readonly_client_secret:
            readonly = HarnessSession(target, TokenProvider(auth_url, config.readonly_client_id, config.readonly_client_secret),
                                      config.writes_enabled, timeout=config.request_timeout)
            readonly.limiter = self.session.limiter  # one cap for both clients
            readonly.local = self.session.local  # one "last exchange": a failure shows the read-only request
        worker = getattr(pytest_config, "workerinput", None) if pytest_config is not None else None
        self.cleanup = Cleanup(journal=self._journal_for(worker["workerid"]) if worker else None)
        self.context = CheckContext(config, self.catalog, self.session, readonly, self.cleanup)
        self.results: list[Any] = []
        self.started = datetime.now(timezone.utc)
        self.cleanup_problems: list[str] = []

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> "ConformanceRun":
        from tbconform.harness.options import OptionError, build_config

        try:
            run = build_config(lambda dest: config.getoption(f"tbconform_{dest}"))
        except OptionError as exc:
            raise pytest.UsageError(f"tbconform: {exc}") from None
        if config.getoption("--tbconform-run-id"):
            run.run_id = config.getoption("--tbconform-run-id")
        worker = getattr(config, "workerinput", None)
        if worker and worker.get("tbconform_run_id"):  # one run id (and journal folder) for all workers
            run.run_id = worker["tbconform_run_id"]
        if not run.target:
            raise pytest.UsageError("tbconform: give --tbconform-target URL (or set TIMEBACK_API_URL)")
        run.workers = _xdist_workers(config)  # what the run's settings report (`-n`, not a tbconform option)
        return cls(run, config)

    # -- parametrization ------------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        from tbconform.harness.semantic import semantic_pairs

        layers = self.config.layers
        if "tbconform_pair" in metafunc.fixturenames:
            rules = self.pytest_config.getoption("--tbconform-rules") if self.pytest_config else None
            prefixes = [r.strip() for r in rules.split(",")] if rules else None
            pairs = semantic_pairs(self.catalog, self.config.apis) if "semantic" in layers else []
            if prefixes:
                pairs = [(r, o) for r, o in pairs if any(r.id.startswith(p) for p in prefixes)]
            metafunc.parametrize("tbconform_pair", [
                pytest.param((r, o), id=f"{r.id}{PARAM_SEP}{o.label}", marks=[getattr(pytest.mark, r.api), pytest.mark.semantic])
                for r, o in pairs])
        if "tbconform_operation" in metafunc.fixturenames:
            ops = [o for o in self.catalog.ops if not self.config.apis or o.api in self.config.apis] \
                if "contract" in layers else []
            metafunc.parametrize("tbconform_operation", [
                pytest.param(o, id=f"contract{PARAM_SEP}{o.label}", marks=[getattr(pytest.mark, o.api), pytest.mark.contract])
                for o in ops])
        if "tbconform_document" in metafunc.fixturenames:
            docs = [d for d in self.catalog.docs if "contract" in layers
                    and (not self.config.apis or d.raw.get("x-tb-api", d.api) in self.config.apis)]
            metafunc.parametrize("tbconform_document", [
                pytest.param(d, id=f"stateful{PARAM_SEP}{d.label}", marks=[getattr(pytest.mark, d.raw.get("x-tb-api", d.api)),
                                                               pytest.mark.contract])
                for d in docs])

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Drop suite functions left without parameters (a layer not selected) instead of skipping."""
        def unparametrized(item: pytest.Item) -> bool:
            mark = item.get_closest_marker("skip")
            return mark is not None and "empty parameter set" in str(mark.kwargs.get("reason", ""))

        empty = [i for i in items if str(i.path) == str(SUITE) and unparametrized(i)]
        if empty:
            config.hook.pytest_deselected(items=empty)
            items[:] = [i for i in items if i not in empty]

    # -- running --------------------------------------------------------------------------
    def _finish(self, results: list[Any], story: str) -> None:
        """Attach results to the running item and turn them into a pytest outcome."""
        from tbconform.reports import allure_labels
        from tbconform.reports.redaction import redact

        self._current.extend(results)
        allure_labels.finish(story, results, self.config.secrets)
        failed = [r for r in results if r.status in ("failed", "error")]
        if failed:
            pytest.fail("\n".join(redact(f"[{r.id}] {r.message}", self.config.secrets) for r in failed), pytrace=False)
        if results and all(r.status == "skipped" for r in results):
            pytest.skip(redact(results[0].message or "not applicable", self.config.secrets))

    def _label(self, api: str, operation: str, story: str, title: str, layer: str, param: str, value: str) -> None:
        from tbconform.reports import allure_labels

        allure_labels.label(api=api, operation=operation, story=story, title=title, layer=layer, param=param,
                            param_value=value, secrets=self.config.secrets)

    def run_semantic(self, pair: tuple[Any, Any]) -> None:
        from tbconform.harness.semantic import run_rule

        rule, op = pair
        self._label(rule.api, op.label, rule.id, f"{rule.statement} — {op.label}", "semantic",
                    "tbconform_pair", f"{rule.id} | {op.label}")
        self._finish([run_rule(self.context, rule, op)], rule.id)

    def run_contract(self, op: Any) -> None:
        from tbconform.harness.contract import run_operation
        from tbconform.reports.allure_labels import CONTRACT_STORY

        self._label(op.api, op.label, CONTRACT_STORY, f"Contract checks (schemathesis) — {op.label}", "contract",
                    "tbconform_operation", op.label)
        self._finish(run_operation(self.session, self.catalog, op, max_examples=self.config.max_examples,
                                   seed=self.config.seed, run_id=self.config.run_id,
                                   writes=self.session.writes_allowed, cleanup=self.cleanup), CONTRACT_STORY)

    def run_stateful(self, doc: Any) -> None:
        from tbconform.harness.contract import run_stateful
        from tbconform.reports.allure_labels import STATEFUL_STORY

        self._label(doc.raw.get("x-tb-api", doc.api), doc.label, STATEFUL_STORY,
                    f"Stateful sequences (schemathesis) — {doc.label}", "stateful", "tbconform_document", doc.label)
        self._finish(run_stateful(self.session, self.catalog, doc, max_examples=self.config.max_examples,
                                  seed=self.config.seed, run_id=self.config.run_id, cleanup=self.cleanup),
                     STATEFUL_STORY)

    # -- result plumbing (works with and without xdist workers) ---------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        from tbconform.harness.context import raise_if_interrupted

        raise_if_interrupted()
        self._current: list[Any] = []
        yield
        item.user_properties.append((RESULTS_KEY, json.dumps([asdict(r) for r in self._current])))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from tbconform.reports.model import CheckResult

        for key, value in report.user_properties:
            if key == RESULTS_KEY and report.when == "call":
                self.results.extend(CheckResult(**d) for d in json.loads(value))

    # -- cleanup across xdist workers -------------------------------------------------------
    def _journal_dir(self) -> Path:
        return Path(tempfile.gettempdir()) / f"tbconform-cleanup-{self.config.run_id}"

    def _journal_for(self, worker_id: str) -> Path:
        folder = self._journal_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{worker_id}.jsonl"

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["tbconform_run_id"] = self.config.run_id

    @pytest.hookimpl(tryfirst=True, specname="pytest_sessionfinish")
    def pytest_sessionfinish_cleanup(self, session: pytest.Session) -> None:
        """Delete what this process created before any other plugin's session-end work, so a Ctrl-C
        that lands while those run cannot skip it (and Ctrl-C during the deletions waits for them)."""
        from tbconform.harness.context import sigint_deferred

        with sigint_deferred(len(self.cleanup.items)):
            self.cleanup_problems = self.cleanup.run(self.session)

    @pytest.hookimpl(trylast=True)  # on the controller: after xdist has stopped its workers
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from tbconform.harness.context import Cleanup, sigint_deferred

        if hasattr(session.config, "workerinput"):
            return
        folder = self._journal_dir()
        if folder.is_dir():  # what a worker stopped mid-way left behind
            leftover = Cleanup.replay(sorted(folder.glob("*.jsonl")))
            with sigint_deferred(len(leftover.items)):
                self.cleanup_problems += leftover.run(self.session)
            shutil.rmtree(folder, ignore_errors=True)
        report_dir = self.pytest_config.getoption("--tbconform-report-dir") if self.pytest_config else None
        if report_dir:
            self.write_reports(Path(report_dir), interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)

    def run_result(self, interrupted: bool = False) -> Any:
        from tbconform.reports.model import RunResult

        finished = datetime.now(timezone.utc)
        return RunResult(
            target=self.config.target or "", started=self.started.isoformat(timespec="seconds"),
            finished=finished.isoformat(timespec="seconds"), duration=(finished - self.started).total_seconds(),
            settings=self.config.public_settings(), results=list(self.results), interrupted=interrupted,
            operations={api: [op.label for op in self.catalog.ops if op.api == api] for api in self.catalog.apis
                        if not self.config.apis or api in self.config.apis},
        )

    def write_reports(self, out_dir: Path, interrupted: bool = False) -> dict[str, Path]:
        from tbconform.reports import write_reports

        tokens = [t for t in (self.session.tokens.issued if self.session.tokens else None,) if t]
        return write_reports(self.run_result(interrupted), out_dir, secrets=self.config.secrets + tokens)
