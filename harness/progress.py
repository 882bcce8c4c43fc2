"""Live progress of `tbconform run`, per API: a rich display on a terminal, one line per 10 % step
in CI logs, nothing under `--quiet`.

It is a pytest plugin on the controller. Under `--workers` the controller collects nothing and
runs nothing: it hears each worker's collected node ids and the forwarded start/report events.
So everything here is derived from node ids and reports alone (the API of an item from its
parameter id via the catalog, warnings from the results `ConformanceRun` attaches to reports).
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, TextIO

import pytest

from tbconform.harness.pytest_plugin import PARAM_SEP, RESULTS_KEY

STEP = 10  # percent between two lines in the non-terminal form
OUTCOMES = ("passed", "failed", "skipped", "warning")


@dataclass
class Tally:
    """Items of one API: how many there are and how the settled ones came out."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    warning: int = 0
    started: float = 0.0
    finished: float | None = None  # when the last item settled: elapsed stops there
    last_step: int = 0  # the last 10 % step printed (non-terminal form)

    @property
    def done(self) -> int:
        return self.passed + self.failed + self.skipped + self.warning

    def counts(self) -> str:
        return f"✓{self.passed} ✗{self.failed} ↷{self.skipped} ⚠{self.warning}"

    def timing(self, now: float) -> str:
        """Elapsed time and a linear ETA; the ETA is unknown until the first item settles."""
        elapsed = (self.finished or now) - self.started
        eta = "?" if not self.done else f"{elapsed / self.done * (self.total - self.done):.0f} s"
        return f"{elapsed:.1f} s elapsed, ETA {eta}"


class ApiOf:
    """The API an item belongs to, from its node id alone (the controller under xdist has no items).

    Parameter ids are `<rule id>|<op>`, `contract|<op>` or `stateful|<doc>` (PARAM_SEP; see
    `ConformanceRun.pytest_generate_tests`); rule ids start with their API, operations and
    documents are looked up in the catalog.
    """

    def __init__(self, catalog: Any = None) -> None:
        from tbconform.harness.rules import load_rule_plugins

        self.rules = {rule_id: rule.api for rule_id, rule in load_rule_plugins().items()}
        self.ids: dict[str, str] = {}
        if catalog is not None:
            self.ids.update({f"contract{PARAM_SEP}{op.label}": op.api for op in catalog.ops})
            self.ids.update({f"stateful{PARAM_SEP}{d.label}": d.raw.get("x-tb-api", d.api) for d in catalog.docs})
        self.only = catalog.apis[0] if catalog is not None and len(catalog.apis) == 1 else None

    def __call__(self, nodeid: str) -> str:
        param = nodeid.partition("[")[2].removesuffix("]")
        if param in self.ids:
            return self.ids[param]
        head = param.split(PARAM_SEP, 1)[0]
        if head in self.rules:
            return self.rules[head]
        return self.only or (head.split(".", 1)[0] if "." in head else "other")


def settled(report: pytest.TestReport) -> str | None:
    """The item's outcome when this report settles it (its call, a failed or skipped setup, or a
    crashed worker's `???` report), else None. A passed item with a warning result is a warning."""
    if report.when == "teardown" or (report.when == "setup" and report.passed):
        return None
    if report.passed:
        for key, value in report.user_properties:
            if key == RESULTS_KEY and any(r.get("status") == "warning" for r in json.loads(value)):
                return "warning"
        return "passed"
    return "skipped" if report.skipped else "failed"


def describe(nodeid: str) -> str:
    """What is running, short: the parameter id (rule and operation), not the suite's file path."""
    return nodeid.partition("[")[2].removesuffix("]")[:80] or nodeid


REDRAW_EVERY = 0.1  # seconds between redraws forced from the test loop


class Progress:
    """The pytest plugin: tallies per API and one of three renderings (`live`, `lines`, `off`)."""

    def __init__(self, mode: str, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.mode = mode
        self.stream = stream or sys.stdout
        self.clock = clock
        self.tallies: dict[str, Tally] = {}
        self.api_of: ApiOf | None = None
        self.config: pytest.Config | None = None
        self.live: Any = None
        self.tasks: dict[str, Any] = {}
        self._drawn = 0.0  # when the main thread last redrew the live display

    # -- collection -----------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def _resolver(self) -> ApiOf:
        if self.api_of is None:
            run = self.config.pluginmanager.get_plugin("tbconform-run") if self.config else None
            self.api_of = ApiOf(run.catalog if run is not None else None)
        return self.api_of

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput"):
            self.start([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """With --workers each worker reports the same collection; the first one counts."""
        if not self.tallies:
            self.start(ids)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """pytest's own terminal output is off, so a collection error is told here, on stderr."""
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            print(f"tbconform run: cannot collect {report.nodeid or 'the suite'}: {text[-1] if text else ''}",
                  file=sys.stderr)

    def start(self, nodeids: list[str]) -> None:
        now = self.clock()
        for nodeid in nodeids:
            self.tallies.setdefault(self._resolver()(nodeid), Tally(started=now)).total += 1
        if self.mode == "live" and self.tallies:
            self._start_live()

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TaskProgressColumn, TextColumn
        from rich.table import Column

        def fixed(template: str) -> TextColumn:  # never wrapped: a narrow terminal cuts the "now" column
            return TextColumn(template, table_column=Column(no_wrap=True))

        console = Console(file=self.stream)
        # About what the other columns take (bar 20, timing ~25, counts and M/N by digits); "now" gets the rest.
        digits = max(len(str(t.total)) for t in self.tallies.values())
        rest = console.width - 60 - max(map(len, self.tallies)) - 6 * digits
        now = TextColumn("[dim]{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis",
                                                                        max_width=max(rest, 1)))
        self.live = Bars(fixed("[bold]{task.fields[api]}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                         TaskProgressColumn(), fixed("{task.fields[counts]}"), _timing_column(self), now,
                         console=console)
        for api, tally in sorted(self.tallies.items()):
            self.tasks[api] = self.live.add_task("", total=tally.total, api=api, counts=tally.counts())
        self.live.start()

    # -- running --------------------------------------------------------------------------
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self.live is not None and self.tallies:
            task = self.tasks.get(self._resolver()(nodeid))
            if task is not None:
                self.live.update(task, description=describe(nodeid))
                now = self.clock()
                if now - self._drawn >= REDRAW_EVERY:  # rich's refresh thread starves on a busy core
                    self._drawn = now
                    self.live.refresh()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = settled(report)
        if outcome is None or not self.tallies:
            return
        api = self._resolver()(report.nodeid)
        tally = self.tallies.setdefault(api, Tally(started=self.clock()))
        setattr(tally, outcome, getattr(tally, outcome) + 1)
        tally.total = max(tally.total, tally.done)
        if tally.done == tally.total:
            tally.finished = self.clock()
        if self.live is not None and api in self.tasks:
            self.live.update(self.tasks[api], completed=tally.done, counts=tally.counts())
        elif self.mode == "lines":
            self._line(api, tally)

    def _line(self, api: str, tally: Tally) -> None:
        step = tally.done * 100 // tally.total // STEP * STEP if tally.total else 100
        if step > tally.last_step:
            tally.last_step = step
            print(f"{api}: {step}% ({tally.done}/{tally.total}) {tally.counts()}, {tally.timing(self.clock())}",
                  file=self.stream, flush=True)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stop the display before the reports, so the verdict prints below it."""
        self.stop()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.stop()  # a session that died early: never leave the terminal's cursor hidden

    def stop(self) -> None:
        if self.live is not None:
            for task in self.tasks.values():
                self.live.update(task, description="")
            self.live.stop()
            self.live = None


def _timing_column(progress: Progress) -> Any:
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class TimingColumn(ProgressColumn):
        """Elapsed and ETA in the same words as the log lines (`12.3 s elapsed, ETA 18 s`)."""

        def render(self, task: Any) -> Text:
            api = task.fields.get("api")
            tally = progress.tallies.get(api)
            return Text(tally.timing(progress.clock()) if tally else "")

    return TimingColumn(table_column=Column(no_wrap=True))


def mode_for(quiet: bool, stream: TextIO) -> str:
    """`off` under --quiet, `live` on a terminal, `lines` otherwise (CI logs, pipes)."""
    if quiet:
        return "off"
    return "live" if stream.isatty() else "lines"
