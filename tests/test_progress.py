"""Live progress of `tbconform run`: a rich display on a terminal, 10 % step lines in logs,
nothing but the verdict under --quiet; with and without --workers."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from types import SimpleNamespace

import pytest

from tbconform.harness.progress import ApiOf, Progress, Tally, settled
from tbconform.harness.pytest_plugin import PARAM_SEP

SELECTION = ["--layers", "semantic", "--rules", "oneroster.auth.missing-token"]
STEP_LINE = re.compile(r"^(\w+): (\d+)% \((\d+)/(\d+)\) ✓(\d+) ✗(\d+) ↷(\d+) ⚠(\d+), [\d.]+ s elapsed, ETA \d+ s$")
VERDICT = re.compile(r"^tbconform: PASS against embedded sandbox: \d+ passed, 0 failed, \d+ skipped \(0 errors\) in [\d.]+ s$")


def cli(tmp_path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tbconform.harness.cli", "run", *SELECTION, "--report-dir", str(tmp_path / "r"), *extra]


def run_piped(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cli(tmp_path, *extra), capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def run_in_terminal(tmp_path, *extra: str, columns: int = 160) -> str:
    """Run with stdout on a pseudo-terminal (as a user's shell would) and return what it drew."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(cli(tmp_path, *extra), stdout=follower, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 300)
        if not ready:
            proc.kill()
            pytest.fail("no output from the run for 300 s")
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the run closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0, proc.stderr.read().decode() if proc.stderr else ""
    return b"".join(chunks).decode("utf-8", "replace")


def step_lines(stdout: str) -> list[re.Match]:
    lines = stdout.splitlines()
    matches = [STEP_LINE.match(line) for line in lines[:-2]]
    assert all(matches), stdout  # every line above the verdict and the report line is a step line
    return matches  # type: ignore[return-value]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_log_lines_one_per_step_per_api(tmp_path, workers):
    result = run_piped(tmp_path, "--workers", workers)
    lines = result.stdout.splitlines()
    assert VERDICT.match(lines[-2]) and lines[-1].startswith("reports: "), result.stdout
    steps = step_lines(result.stdout)
    assert [m[1] for m in steps] == ["oneroster"] * 10
    assert [int(m[2]) for m in steps] == list(range(10, 101, 10))
    done = [int(m[3]) for m in steps]
    assert done == sorted(done) and len(set(done)) == 10
    total = int(steps[-1][4])
    assert done[-1] == total and {int(m[4]) for m in steps} == {total}
    for m in steps:  # the counts add up to the items done, and the percentage is theirs
        assert sum(int(m[i]) for i in range(5, 9)) == int(m[3])
        assert int(m[2]) == int(m[3]) * 100 // total // 10 * 10
    assert f"{total} passed" in lines[-2]


def test_quiet_prints_only_the_verdict(tmp_path):
    result = run_piped(tmp_path, "--quiet", "--workers", "1")
    assert len(result.stdout.splitlines()) == 1 and VERDICT.match(result.stdout.strip()), result.stdout
    assert result.stderr.strip() == ""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_terminal_shows_a_live_display(tmp_path, workers):
    screen = run_in_terminal(tmp_path, "--workers", workers)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "\x1b[" in screen  # drawn with terminal control sequences, not printed as log lines
    assert not STEP_LINE.search(plain.replace("\r", "\n"))
    assert "oneroster" in plain and "100%" in plain and re.search(r"[\d.]+ s elapsed, ETA \d+ s", plain)
    total = re.search(r"(\d+) passed, 0 failed", plain)
    assert total and f"{total[1]}/{total[1]}" in plain and f"✓{total[1]}" in plain
    # the rule running at some refresh was shown (which one depends on timing)
    assert re.search(r"oneroster\.[a-z]+\.[a-z-]+" + re.escape(PARAM_SEP), plain), plain[-2000:]


def test_narrow_terminal_cuts_instead_of_wrapping(tmp_path):
    screen = run_in_terminal(tmp_path, "--workers", "1", columns=80)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    frames = [f.rstrip() for f in plain.replace("\n", "\r").split("\r") if f.startswith("oneroster")]
    assert frames and all(len(f) <= 80 for f in frames) and "━" in plain, frames  # bars, cut to fit
    assert all(re.search(r"s elapsed, ETA (\d+ s|\?)", f) for f in frames), frames  # never split over two lines


def test_quiet_on_a_terminal_draws_nothing(tmp_path):
    screen = run_in_terminal(tmp_path, "--quiet", "--workers", "1")
    lines = [line for line in screen.replace("\r", "").splitlines() if line.strip()]
    assert len(lines) == 1 and VERDICT.match(lines[0]), screen


def report(nodeid: str, when: str, outcome: str, statuses: tuple[str, ...] = ()) -> SimpleNamespace:
    import json

    from tbconform.harness.pytest_plugin import RESULTS_KEY

    props = [(RESULTS_KEY, json.dumps([{"status": s} for s in statuses]))] if statuses else []
    return SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome, passed=outcome == "passed",
                           skipped=outcome == "skipped", user_properties=props)


def test_outcomes_are_settled_once_and_warnings_counted():
    assert settled(report("x", "setup", "passed")) is None
    assert settled(report("x", "teardown", "failed")) is None
    assert settled(report("x", "setup", "skipped")) == "skipped"
    assert settled(report("x", "setup", "failed")) == "failed"  # a setup error
    assert settled(report("x", "???", "failed")) == "failed"  # xdist's report for a crashed worker
    assert settled(report("x", "call", "passed", ("passed", "warning"))) == "warning"
    assert settled(report("x", "call", "passed", ("passed",))) == "passed"


def test_every_suite_item_maps_to_its_api():
    from tbconform.harness.catalog import Catalog
    from tbconform.harness.rules import load_rule_plugins
    from tbconform.harness.semantic import semantic_pairs

    catalog = Catalog.load()
    api_of = ApiOf(catalog)
    api_of.only = None  # no single-API fallback: each kind of id must resolve on its own
    suite = "harness/suite/test_tbconform.py"
    load_rule_plugins()
    ids = [f"{suite}::test_semantic[{r.id}{PARAM_SEP}{o.label}]" for r, o in semantic_pairs(catalog, None)]
    ids += [f"{suite}::test_contract[contract{PARAM_SEP}{o.label}]" for o in catalog.ops]
    ids += [f"{suite}::test_stateful[stateful{PARAM_SEP}{d.label}]" for d in catalog.docs]
    assert len(ids) > 100 and {api_of(i) for i in ids} == set(catalog.apis)
    assert ApiOf(None)(f"x::test_semantic[qti.items.thing{PARAM_SEP}GET /x]") == "qti"


def test_lines_per_api_are_independent_and_monotonic(capsys):
    clock = iter(range(100)).__next__
    progress = Progress("lines", stream=sys.stdout, clock=lambda: float(clock()))
    progress.api_of = lambda nodeid: nodeid.split("/")[0]  # type: ignore[assignment]
    progress.start([f"a/{i}" for i in range(20)] + [f"b/{i}" for i in range(3)])
    for i in range(20):
        progress.pytest_runtest_logreport(report(f"a/{i}", "call", "failed" if i == 4 else "passed"))
        if i < 3:
            progress.pytest_runtest_logreport(report(f"b/{i}", "call", "skipped"))
    out = capsys.readouterr().out.splitlines()
    a = [line for line in out if line.startswith("a: ")]
    b = [line for line in out if line.startswith("b: ")]
    assert [line.split("%")[0] for line in a] == [f"a: {p}" for p in range(10, 101, 10)]
    assert [line.split("%")[0] for line in b] == ["b: 30", "b: 60", "b: 100"]  # 1 of 3 items = 33 %
    assert a[-1].startswith("a: 100% (20/20) ✓19 ✗1 ↷0 ⚠0") and b[-1].startswith("b: 100% (3/3) ✓0 ✗0 ↷3")
    assert Tally(total=4, passed=2, started=0.0).timing(10.0) == "10.0 s elapsed, ETA 10 s"
