"""The command line: one-line usage errors with exit 2, and the three connection failures told apart."""
from __future__ import annotations

import json

import pytest

from tbconform.harness.cli import main
from tbconform.mocks.testing import free_port


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [
    ["mock", "--port", "0"], ["mock", "--port", "http"], ["mock", "--size", "huge"], ["mock", "--seed", "-3"],
    ["mock", "--client-id", "only-id"], ["mock", "--fault", "no-such-fault"], ["mock", "--api", "nosuchapi"], ["mock", "--db", "/no/such/folder/x.db"],
    ["seed", "--seed", "-1", "--out", "x"], ["seed", "--size", "small"], ["run", "--max-examples", "0"],
    ["run", "--workers", "many"], ["run", "--workers", "0"], ["run", "--api", "nosuchapi"], ["run", "--layers", "everything"],
    ["run", "--max-rps", "-1"], ["run", "--client-id", "x", "--client-secret", "y"],
    ["report", "--from", "/no/such/report"], ["frobnicate"],
])
def test_usage_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("tbconform"), err
    assert "Traceback" not in err


def test_help_texts(capsys):
    for argv in (["--help"], ["mock", "--help"], ["seed", "--help"], ["run", "--help"], ["report", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    assert "--allow-writes" in capsys.readouterr().out


def test_unreachable_target(capsys):
    code, _, err = run(capsys, "run", "--target", f"http://127.0.0.1:{free_port()}", "--client-id", "a",
                       "--client-secret", "s3cr3t-value")
    assert code == 2 and "cannot reach the target" in err and "s3cr3t-value" not in err


def test_refused_token_request(capsys, httpserver):
    httpserver.expect_request("/").respond_with_json({"ok": True})
    httpserver.expect_request("/oauth2/token", method="POST").respond_with_json({"error": "invalid_request"}, status=400)
    code, _, err = run(capsys, "run", "--target", httpserver.url_for("/").rstrip("/"), "--client-id", "a",
                       "--client-secret", "s3cr3t-value")
    assert code == 2 and "token request refused" in err and "s3cr3t-value" not in err


def test_unreachable_token_url(capsys, httpserver):
    httpserver.expect_request("/").respond_with_json({"ok": True})
    code, _, err = run(capsys, "run", "--target", httpserver.url_for("/").rstrip("/"), "--auth-url",
                       f"http://127.0.0.1:{free_port()}/token", "--client-id", "a", "--client-secret", "s3cr3t-value")
    assert code == 2 and "token URL unreachable" in err


def test_bad_credentials(capsys, readonly_sandbox):
    code, _, err = run(capsys, "run", "--target", readonly_sandbox.base_url, "--client-id", "tbconform-sandbox",
                       "--client-secret", "wrong-s3cr3t")
    assert code == 2 and "bad credentials" in err and "wrong-s3cr3t" not in err


def test_environment_variables_configure_the_run(capsys, monkeypatch):
    monkeypatch.setenv("TIMEBACK_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CLIENT_ID", "env-id")
    monkeypatch.setenv("CLIENT_SECRET", "env-s3cr3t")
    code, _, err = run(capsys, "run")
    assert code == 2 and "cannot reach the target" in err and "env-s3cr3t" not in err


def test_seed_writes_a_bundle(capsys, tmp_path):
    code, out, _ = run(capsys, "seed", "--seed", "7", "--size", "small", "--out", str(tmp_path / "w"), "--no-progress")
    assert code == 0 and "records" in out
    users = json.loads((tmp_path / "w" / "json" / "users.json").read_text())
    assert sum(1 for u in users if any(r["role"] == "student" for r in u["roles"])) == 30
    code, _, err = run(capsys, "seed", "--out", str(tmp_path / "w"), "--no-progress")
    assert code == 2 and "tbconform seed" in err  # refuses to overwrite a non-empty folder


def test_report_rerenders_from_run_json(capsys, tmp_path):
    from tbconform.reports import write_reports
    from tbconform.reports.model import CheckResult, RunResult

    run_result = RunResult("http://x", "2026-01-01T00:00:00", "2026-01-01T00:00:01", 1.0, {},
                           [CheckResult("oneroster.demo.rule", "oneroster", "GET /x", "failed", "broken")])
    write_reports(run_result, tmp_path)
    (tmp_path / "index.html").unlink()
    code, out, _ = run(capsys, "report", "--from", str(tmp_path))
    assert code == 0 and (tmp_path / "index.html").is_file()
    assert json.loads((tmp_path / "summary.json").read_text())["failed"] == 1
