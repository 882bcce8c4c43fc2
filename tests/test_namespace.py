"""One import namespace: a team's own `harness`, `mocks`, `fixtures`, `reports` and `specs` packages
keep working beside tbconform, and so does our pytest plugin in that team's pytest run."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

COMMON_NAMES = ("harness", "mocks", "fixtures", "reports", "specs")


def _team_project(root):
    """A scratch project whose own packages take every name our source folders have."""
    for name in COMMON_NAMES:
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(f"OWNER = 'team-{name}'\n")
        (root / name / "pytest_plugin.py").write_text("WHO = 'team'\n")
    (root / "test_team.py").write_text(
        "import harness, mocks, fixtures, reports, specs\n"
        "from harness.pytest_plugin import WHO\n"
        "def test_own_packages_win(pytestconfig):\n"
        "    assert [m.OWNER for m in (harness, mocks, fixtures, reports, specs)] == "
        f"{[f'team-{n}' for n in COMMON_NAMES]!r}\n"
        "    assert WHO == 'team'\n"
        "    assert pytestconfig.pluginmanager.hasplugin('tbconform')\n")
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")


def _pytest(root, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
                           "-p", "no:cacheprovider", *args], capture_output=True, text=True, timeout=600, cwd=root)


def test_distribution_exposes_one_top_level_package():
    dist = metadata.distribution("tbconform")
    scripts = {ep.name: ep.value for ep in dist.entry_points}
    assert scripts["tbconform"].startswith("tbconform.") and all(v.startswith("tbconform.") for v in scripts.values())
    top = (dist.read_text("top_level.txt") or "tbconform").split()
    assert top == ["tbconform"]


def test_team_packages_and_our_plugin_coexist(tmp_path):
    _team_project(tmp_path)
    with run_sandbox(SandboxConfig()) as sb:
        result = _pytest(tmp_path, "-q", "-rA", "test_team.py", "--tbconform-target", sb.base_url,
                         "--tbconform-client-id", DEFAULT_CLIENT_ID, "--tbconform-client-secret", DEFAULT_CLIENT_SECRET,
                         "--tbconform-layers", "semantic", "--tbconform-rules", "oneroster.auth.missing-token",
                         "--tbconform-report-dir", str(tmp_path / "rep"))
    out = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, out
    assert "ModuleNotFoundError" not in out
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["failed"] == 0 and summary["passed"] >= 150  # the plugin ran its rule on every operation
    assert "PASSED test_team.py::test_own_packages_win" in result.stdout  # the team's own imports


def test_console_script_and_module_run_from_a_team_project(tmp_path):
    _team_project(tmp_path)
    for cmd in ([sys.executable, "-m", "tbconform.harness.cli", "--version"],
                [str(__import__("pathlib").Path(sys.executable).with_name("tbconform")), "--version"]):
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=60,
                                env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0 and result.stdout.startswith("tbconform "), result.stderr


def test_regular_install_carries_the_namespace_and_spec_data(tmp_path):
    """A built wheel (what a regular `pip install` unpacks) holds only `tbconform/`, specs included."""
    import zipfile
    from tests.conftest import REPO

    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("tbconform-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "site")
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"tbconform"}, tops
    assert any(n.startswith("tbconform/specs/oneroster/") and n.endswith(".yaml") for n in names)
    # every source package is in the wheel (a sub-package left out of pyproject's list breaks
    # only regular installs: an editable one still finds it on disk)
    sources = {"tbconform/" + str(init.parent.relative_to(REPO)) + "/__init__.py"
               for top in ("harness", "mocks", "fixtures", "reports", "specs")
               for init in (REPO / top).rglob("__init__.py") if "__pycache__" not in init.parts}
    assert sources and sources <= set(names), sorted(sources - set(names))
    probe = ("import tbconform, tbconform.specs.loader as l, tbconform.harness.pytest_plugin as p;"
             "print(tbconform.__file__); print(sorted(l.available_apis()))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[0].startswith(str(tmp_path / "site")) and "oneroster" in run.stdout
