"""`tbconform run`: preflight, then the suite through pytest (the same plugin teams use), then
reports and an exit code: 0 all selected checks passed, 1 conformance failures, 2 usage or
connection problems."""
from __future__ import annotations

import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from tbconform.harness.config import RunConfig
from tbconform.harness.progress import Progress, mode_for
from tbconform.harness.pytest_plugin import SUITE
from tbconform.harness.target import PreflightError, check_target, embedded_sandbox

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


def pytest_args(config: RunConfig, ini: Path, rules: str | None) -> list[str]:
    args = [str(SUITE), "-c", str(ini), "--rootdir", str(ini.parent), "-p", "no:cacheprovider", "--assert=plain",
            "-p", "no:terminal", "-W", "ignore",  # harness/progress.py is the only display
            "--tbconform-target", config.target or "", "--tbconform-report-dir", str(config.report_dir),
            "--alluredir", str(config.report_dir / "allure-results"), "--clean-alluredir",
            "--tbconform-max-examples", str(config.max_examples), "--tbconform-seed", str(config.seed),
            "--tbconform-request-timeout", f"{config.request_timeout:g}",
            "--tbconform-layers", ",".join(config.layers), "--tbconform-run-id", config.run_id]
    for flag, value in (("--tbconform-auth-url", config.auth_url), ("--tbconform-client-id", config.client_id),
                        ("--tbconform-client-secret", config.client_secret),
                        ("--tbconform-readonly-client-id", config.readonly_client_id),
                        ("--tbconform-readonly-client-secret", config.readonly_client_secret),
                        ("--tbconform-api", ",".join(config.apis) if config.apis else None),
                        ("--tbconform-max-rps", str(config.max_rps) if config.max_rps is not None else None),
                        ("--tbconform-rules", rules)):
        if value:
            args += [flag, value]
    if config.allow_writes:
        args.append("--tbconform-allow-writes")
    if config.workers > 1:
        args += ["-n", str(config.workers)]
    return args


def summarize(report_dir: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads((report_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return {}


def print_details(summary: dict[str, Any], report_dir: Path) -> None:
    """The lines under the verdict (left out under --quiet): failing rules, warning rules (apart: they
    never change the verdict or the exit code), where the reports are."""
    rules = summary.get("rules") or {}
    failing = [r for r, c in rules.items() if c.get("failed") or c.get("errors")]
    if failing:
        print("failing rules: " + ", ".join(sorted(failing)[:15]) + (" ..." if len(failing) > 15 else ""))
    warning = [r for r, c in rules.items() if c.get("warnings")]
    if warning:
        print(f"warnings ({summary.get('warnings', 0)}, the verdict does not count them): "
              + ", ".join(sorted(warning)[:15]) + (" ..." if len(warning) > 15 else ""))
    print(f"reports: {report_dir}/index.html, summary.json, junit.xml, allure-results/")


def run_suite(config: RunConfig, rules: str | None = None, quiet: bool = False) -> int:
    """Run the suite and print its verdict; `quiet` leaves out the progress and the report lines."""
    config.report_dir.mkdir(parents=True, exist_ok=True)
    embedded = config.target is None
    try:
        with embedded_sandbox(config) if embedded else nullcontext(config):
            if not embedded:
                check_target(config)
            with tempfile.TemporaryDirectory(prefix="tbconform-") as tmp:
                ini = Path(tmp) / "pytest.ini"
                ini.write_text("[pytest]\n")
                display = Progress(mode_for(quiet, sys.stdout))
                code = pytest.main(pytest_args(config, ini, rules), plugins=[display])
    except PreflightError as exc:
        print(f"tbconform run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    summary = summarize(config.report_dir)
    where = "embedded sandbox" if embedded else config.target
    if summary:
        print(f"tbconform: {summary.get('verdict', '?')} against {where}: {summary.get('passed', 0)} passed, "
              f"{summary.get('failed', 0)} failed, {summary.get('skipped', 0)} skipped "
              f"({summary.get('errors', 0)} errors) in {summary.get('duration', 0):.1f} s")
        if not quiet:
            print_details(summary, config.report_dir)
    if code == pytest.ExitCode.OK:
        return EXIT_OK
    if code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_FAILURES
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("tbconform run: no checks selected (check --api, --layers and --rules)", file=sys.stderr)
    elif code == pytest.ExitCode.INTERRUPTED:
        print("tbconform run: interrupted; records created so far were removed", file=sys.stderr)
    return EXIT_USAGE
