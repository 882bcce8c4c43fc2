"""The official Timeback Python client (`timeback-oneroster`) works against the sandbox.

The client needs Python >= 3.12 while this project may run on an older one, so the client lives in
a venv of its own (built once from the package index, cached under `.venv-client/py<X.Y>/` in the
repository root, or under $TBCONFORM_CLIENT_VENV_DIR) and `tests/client_driver.py` runs in it as a
subprocess against an in-process sandbox. Environment:

* TBCONFORM_PY312       an interpreter >= 3.12 to build the client venv with
* TBCONFORM_CLIENT_VENV an existing venv that already has timeback-oneroster (no install at all)
* TBCONFORM_CLIENT_SPEC the requirement to install (default ``timeback-oneroster>=0.4.0``)
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

REPO = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).with_name("client_driver.py")
CLIENT_SPEC = os.environ.get("TBCONFORM_CLIENT_SPEC", "timeback-oneroster>=0.4.0")
MIN_VERSION = (3, 12)
STAMP = ".tbconform-client-installed"
# pip's words for "could not reach the index" (as opposed to "the index said no").
OFFLINE_MARKERS = (
    "NewConnectionError", "Temporary failure in name resolution", "Name or service not known",
    "Network is unreachable", "Connection refused", "ConnectTimeoutError", "ReadTimeoutError",
    "Could not fetch URL", "ProxyError", "SSLError", "Max retries exceeded", "No route to host",
)

pytestmark = pytest.mark.client


def _version(python: str) -> tuple[int, int] | None:
    """(major, minor) of a working interpreter, None when it does not run (pyenv shims often don't)."""
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        major, minor = (int(x) for x in out.stdout.split())
    except ValueError:
        return None
    return major, minor


def find_python() -> tuple[str, tuple[int, int]] | None:
    candidates: list[str] = []
    if os.environ.get("TBCONFORM_PY312"):
        candidates.append(os.environ["TBCONFORM_PY312"])
    if sys.version_info[:2] >= MIN_VERSION:
        candidates.append(sys.executable)
    for name in ("python3.12", "python3.13", "python3.14"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3.1[2-9]"))
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3.1[2-9]")))
    seen = set()
    for python in candidates:
        if python in seen:
            continue
        seen.add(python)
        version = _version(python)
        if version and version >= MIN_VERSION:
            return python, version
    return None


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _imports(python: Path, imports: str) -> bool:
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", imports], capture_output=True, timeout=60).returncode == 0


def build_client_venv(prefix: str, specs: list[str], imports: str, given_env: str) -> Path:
    """A venv's python that can run `imports`, with `specs` installed from the package index; built
    once under `.venv-client/<prefix><X.Y>/` and cached. Skips when no Python >= 3.12 is found or
    the index cannot be reached; fails when the index refuses the install."""
    wanted = " ".join(specs)
    given = os.environ.get(given_env)
    if given:
        python = _venv_python(Path(given))
        if not _imports(python, imports):
            pytest.fail(f"{given_env}={given} cannot `{imports}`")
        return python
    found = find_python()
    if found is None:
        pytest.skip(f"no Python >= 3.12 found for the official client ({wanted}): set TBCONFORM_PY312, put "
                    "python3.12 on PATH, or install one under ~/.pyenv/versions")
    base_python, (major, minor) = found
    root = Path(os.environ.get("TBCONFORM_CLIENT_VENV_DIR", REPO / ".venv-client"))
    venv = root / f"{prefix}{major}.{minor}"
    python = _venv_python(venv)
    if (venv / STAMP).exists() and _imports(python, imports):
        return python
    # Build in a scratch folder next to the cache and move it into place, so that an interrupted
    # or concurrent build never leaves a half-made venv behind.
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"build-{prefix}{major}.{minor}-", dir=root))
    try:
        made = subprocess.run([base_python, "-m", "venv", str(scratch)], capture_output=True, text=True, timeout=300)
        if made.returncode != 0:
            pytest.skip(f"cannot create a venv with {base_python}: {made.stderr.strip()[-400:]}")
        try:
            pip = subprocess.run(
                [str(_venv_python(scratch)), "-m", "pip", "install", "--disable-pip-version-check",
                 "--no-input", "--timeout", "20", "--retries", "2", *specs],
                capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip(f"installing {wanted} from the package index timed out (index unreachable?)")
        if pip.returncode != 0:
            output = pip.stdout + pip.stderr
            if any(marker in output for marker in OFFLINE_MARKERS):
                pytest.skip(f"package index unreachable, cannot install {wanted}: {output.strip()[-300:]}")
            pytest.fail(f"pip install {wanted} failed:\n{output[-2000:]}")
        (scratch / STAMP).write_text(wanted + "\n")
        # The venv is only ever used as `<venv>/bin/python -m ...`, which survives the move.
        if venv.exists():
            shutil.rmtree(venv, ignore_errors=True)
        try:
            scratch.rename(venv)
        except OSError:  # another process won the race; use its venv if it is complete
            if not ((venv / STAMP).exists() and _imports(python, imports)):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not _imports(python, imports):
        pytest.fail(f"{venv} was built but `{imports}` fails")
    return python


def show_line(request: pytest.FixtureRequest, line: str) -> None:
    """Print a figure line on the terminal even under `-q` and output capture (and in the log)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)
    print(line)


def client_venv() -> Path:
    """The venv's python with timeback-oneroster."""
    return build_client_venv("py", [CLIENT_SPEC], "import timeback_oneroster", "TBCONFORM_CLIENT_VENV")


@pytest.fixture(scope="module")
def client_python() -> Path:
    return client_venv()


def run_client_driver(python: Path, driver: Path, tmp_path: Path, report_name: str, *,
                      extra_args: tuple[str, ...] = (), timeout: int = 180
                      ) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """Run an official-client driver in its venv against a fresh in-process sandbox and load its
    JSON report: every official-client test talks to the sandbox the same way, only the driver differs."""
    report_path = tmp_path / report_name
    with run_sandbox(SandboxConfig()) as running:
        proc = subprocess.run(
            [str(python), str(driver), "--base-url", running.base_url, "--token-url", running.token_url,
             "--client-id", running.sandbox.config.client_id, "--client-secret", running.sandbox.config.client_secret,
             *extra_args, "--out", str(report_path), "--verbose"],
            capture_output=True, text=True, timeout=timeout, cwd=tmp_path,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if not report_path.exists():
        pytest.fail(f"client driver produced no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
                    f"{proc.stderr[-3000:]}")
    return json.loads(report_path.read_text()), proc


def check_one_client(python: Path, driver: Path, tmp_path: Path, package: str, covered: dict[str, str],
                     record_property: Any, request: pytest.FixtureRequest) -> dict:
    """Run the driver of one official client package, show its figure line, and assert that every
    operation succeeded, every client method ran and every divergence says why; the report back."""
    report, proc = run_client_driver(python, driver, tmp_path, f"official-{package.removeprefix('timeback-')}-client.json")
    summary, client = report["summary"], report["client"]
    record_property("client_operations", summary["operations"])
    record_property("client_version", client["version"])
    show_line(request, f"official client {package} {client['version']} (Python {client['python']}): "
                       f"{summary['ok']}/{summary['operations']} operations ok, {summary['divergences']} "
                       f"divergences, {summary['seconds']} s")
    assert_driver_succeeded(report, proc, covered)
    # a divergence (the client disagrees with Timeback's documented API) always says why
    assert all(d["why"] for d in report["divergences"]), report["divergences"]
    return report


def assert_driver_succeeded(report: dict, proc: subprocess.CompletedProcess[str],
                            covered: dict[str, str] | None = None) -> None:
    """No operation failed, the driver exited cleanly and (given `covered`, client method -> driver
    operation) every public client method was exercised."""
    summary = report["summary"]
    failed = [op for op in report["operations"] if not op["ok"]]
    details = "\n".join(f"  {op['name']}: {op['error']}\n{op.get('traceback', '')}" for op in failed)
    assert not failed, f"{len(failed)} of {summary['operations']} client operations failed:\n{details}"
    assert proc.returncode == 0, proc.stderr[-2000:]
    if covered is not None:
        ran = {op["name"] for op in report["operations"]}
        missing = {method: op for method, op in covered.items() if op not in ran}
        assert not missing, f"client methods the driver did not exercise: {missing}"


def test_official_client_against_sandbox(client_python: Path, tmp_path: Path, record_property, request) -> None:
    report, proc = run_client_driver(client_python, DRIVER, tmp_path, "official-client.json",
                                     extra_args=("--budget", "90"), timeout=150)
    summary = report["summary"]
    record_property("client_operations", summary["operations"])
    record_property("client_version", report["client"]["version"])
    record_property("client_divergences", summary["divergences"])
    line = (f"official client timeback-oneroster {report['client']['version']} (Python "
            f"{report['client']['python']}): {summary['ok']}/{summary['operations']} operations ok, "
            f"{summary['divergences']} known client/spec divergences, {summary['seconds']} s; "
            f"delete semantics: {sorted(set(report['delete_semantics'].values()))}")
    show_line(request, line)
    assert_driver_succeeded(report, proc)
    assert summary["operations"] >= 150, "the driver exercised suspiciously few operations"
