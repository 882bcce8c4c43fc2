"""Plain `schemathesis run` (every check) against the sandbox, one spec at a time: zero failures.

The default run is bounded (examples, fuzzing and stateful phases, few examples per operation);
`--run-heavy` adds the coverage phase and more examples.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tbconform.specs.loader import load_api
from tests.conftest import REPO

CONFIG = REPO / "tests" / "data" / "schemathesis.toml"
SPECS = [doc.path for doc in load_api("oneroster")]


def _schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


@pytest.fixture(scope="module")
def target(request):
    from tbconform.mocks.sandbox import SandboxConfig
    from tbconform.mocks.testing import run_sandbox

    with run_sandbox(SandboxConfig()) as running:
        yield running


def test_every_operation_passes_every_check(target, request):
    heavy = request.config.getoption("--run-heavy")
    examples = os.environ.get("TBCONFORM_ST_MAX_EXAMPLES", "10" if heavy else "2")
    phases = "examples,coverage,fuzzing,stateful" if heavy else "examples,fuzzing,stateful"
    token = target.token()
    procs = []
    for spec in SPECS:
        cmd = _schemathesis() + [
            "--config-file", str(CONFIG), "run", str(spec), "--url", target.base_url,
            "-H", f"Authorization: Bearer {token}", "--checks", "all", "--max-examples", examples,
            "--phases", phases, "--workers", "1", "--no-color", "--seed", "1",
        ]
        procs.append((spec.name, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    failures = []
    tested = 0
    for name, proc in procs:
        out, _ = proc.communicate(timeout=1800)
        summary = [line for line in out.splitlines() if "generated" in line or "Tested:" in line]
        print(name, *summary)
        tested += sum(int(line.split("Tested:")[1]) for line in out.splitlines() if "Tested:" in line)
        if proc.returncode != 0:
            failures.append(f"{name}: exit {proc.returncode}\n" + "\n".join(out.splitlines()[-60:]))
    assert not failures, "\n\n".join(failures)
    assert tested >= 153, f"only {tested} operations tested"
