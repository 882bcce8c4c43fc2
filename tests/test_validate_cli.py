"""`tbconform validate API FILE... | -`: exit codes, text and JSON output, stdin, progress, the
plug-in registry. Runs in-process (main([...])); needs no reference material."""
from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tbconform.harness import validate as v
from tbconform.harness.cli import main

CTX = "http://purl.imsglobal.org/ctx/caliper/v1p2"
EVENT = {
    "@context": CTX, "id": "urn:uuid:1b3a4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", "type": "ViewEvent",
    "profile": "ReadingProfile", "action": "Viewed", "actor": "https://example.edu/users/1",
    "object": {"id": "https://example.edu/docs/1", "type": "Document"},
    "eventTime": "2025-01-15T10:30:00.000Z",
}
BAD_EVENT = {**EVENT, "action": "Deleted", "object": {"id": "https://example.edu/p/1", "type": "Person"}}
ENTITY = {"@context": CTX, "id": "https://example.edu/users/1", "type": "Person", "name": "Jane"}
ENVELOPE = {"sensor": "https://example.edu/sensors/1", "sendTime": "2025-01-15T10:30:01.000Z",
            "dataVersion": CTX, "data": [EVENT, ENTITY]}


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def test_valid_files_exit_0(tmp_path, capsys):
    files = [write(tmp_path, "e.json", EVENT), write(tmp_path, "n.json", ENTITY),
             write(tmp_path, "v.json", ENVELOPE)]
    assert main(["validate", "caliper", *files]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "3 files judged, 3 valid, 0 invalid"
    assert out.err == ""


def test_invalid_file_exit_1_lists_every_problem(tmp_path, capsys):
    good, bad = write(tmp_path, "good.json", EVENT), write(tmp_path, "bad.json", BAD_EVENT)
    assert main(["validate", "caliper", good, bad]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: invalid event (2 problems)" in out
    assert "$.action" in out and "caliper.event.action-allowed" in out
    assert "$.object.type" in out and "caliper.event.object-type" in out
    assert good not in out
    assert out.strip().endswith("2 files judged, 1 valid, 1 invalid")


def test_envelope_items_are_named_by_index(tmp_path, capsys):
    env = copy.deepcopy(ENVELOPE)
    env["data"][1] = {**ENTITY, "dateCreated": "yesterday"}
    env["dataVersion"] = "http://purl.imsglobal.org/ctx/caliper/v1p1"
    assert main(["validate", "caliper", write(tmp_path, "env.json", env)]) == 1
    out = capsys.readouterr().out
    assert "$.data[1].dateCreated" in out and "caliper.datetime" in out
    assert "$.dataVersion" in out and "caliper.envelope.data-version" in out


@pytest.mark.parametrize("content,message", [
    ("{not json", "not valid JSON (line 1, column 2"),
    ("", "empty, not JSON"),
    ('{"a": NaN}', "not valid JSON"),
])
def test_invalid_json_exit_2_one_line(tmp_path, capsys, content, message):
    path = write(tmp_path, "broken.json", content)
    assert main(["validate", "caliper", path]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"tbconform validate: {path}: ") and message in err[0]


def test_unreadable_file_exit_2(tmp_path, capsys):
    good = write(tmp_path, "good.json", EVENT)
    assert main(["validate", "caliper", good, str(tmp_path / "missing.json"), str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert out.err.splitlines() == [f"tbconform validate: {tmp_path / 'missing.json'}: no such file",
                                    f"tbconform validate: {tmp_path}: is a directory, not a file"]
    assert "1 files judged" not in out.out and "1 file judged, 1 valid, 0 invalid, 2 not judged" in out.out


def test_usage_error_beats_invalid(tmp_path, capsys):
    assert main(["validate", "caliper", write(tmp_path, "bad.json", BAD_EVENT),
                 write(tmp_path, "broken.json", "[")]) == 2


def test_unknown_api_exit_2_lists_known(capsys):
    assert main(["validate", "nosuchapi", "x.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "tbconform validate: unknown API 'nosuchapi'; known: caliper, qti"


def test_no_files_is_a_usage_error(capsys):
    assert main(["validate", "caliper"]) == 2
    assert "give at least one FILE" in capsys.readouterr().err


def test_json_format(tmp_path, capsys):
    good, bad = write(tmp_path, "good.json", EVENT), write(tmp_path, "bad.json", BAD_EVENT)
    assert main(["validate", "caliper", "--format", "json", good, bad]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["api"] == "caliper" and doc["valid"] is False and doc["strict"] is False
    assert [(f["file"], f["kind"], f["valid"]) for f in doc["files"]] == [
        (good, "event", True), (bad, "event", False)]
    assert {"path": "$.action", "rule": "caliper.event.action-allowed"}.items() <= \
        doc["files"][1]["problems"][0].items()
    assert doc["summary"]["files"] == 2 and doc["summary"]["invalid"] == 1
    assert doc["errors"] == []


def test_json_format_reports_usage_errors_too(tmp_path, capsys):
    assert main(["validate", "caliper", "--format", "json", write(tmp_path, "b.json", "[")]) == 2
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["files"] == [] and len(doc["errors"]) == 1 and "not valid JSON" in doc["errors"][0]
    assert "not valid JSON" in out.err


def test_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(BAD_EVENT).encode())))
    assert main(["validate", "caliper", "-"]) == 1
    out = capsys.readouterr().out
    assert "<stdin>: invalid event" in out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(ENVELOPE).encode())))
    assert main(["validate", "caliper", "-", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["kind"] == "envelope"


def test_stdin_only_once(capsys):
    assert main(["validate", "caliper", "-", "-"]) == 2


def test_strict(tmp_path, capsys):
    score = {"@context": CTX, "id": "https://example.edu/scores/1", "type": "Score",
             "maxScore": 15, "scoreGiven": 10.0}
    path = write(tmp_path, "score.json", score)
    assert main(["validate", "caliper", path]) == 0
    capsys.readouterr()
    assert main(["validate", "caliper", "--strict", path]) == 1
    assert "$.maxScore" in capsys.readouterr().out


def test_progress_with_more_than_100_files(tmp_path, capsys):
    files = [write(tmp_path, f"e{i:03}.json", {**EVENT, "id": f"urn:uuid:{uuid.uuid4()}"})
             for i in range(101)]
    assert main(["validate", "caliper", *files]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "validate: 11/101 files (10 %)" and err[-1] == "validate: 101/101 files (100 %)"
    assert len(err) == 10
    assert main(["validate", "caliper", "--no-progress", *files]) == 0
    assert capsys.readouterr().err == ""


def test_no_progress_with_100_files(tmp_path, capsys):
    files = [write(tmp_path, f"e{i:03}.json", EVENT) for i in range(100)]
    assert main(["validate", "caliper", *files]) == 0
    assert capsys.readouterr().err == ""


def test_rules_listing(capsys):
    assert main(["validate", "caliper", "--rules"]) == 0
    out = capsys.readouterr().out
    assert "caliper.event.action-allowed" in out and "caliper.context.value" in out


def test_help_names_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit 0 when every file is valid, 1 when any is invalid, 2 on usage errors" in text
    assert "--format" in text and "--strict" in text and "standard input" in text


def test_registry_finds_plugins_by_name():
    reg = v.registry()
    assert "caliper" in reg.names()
    val = reg.get("caliper")
    assert val is not None and val.strict and val.rules
    assert val.judge(EVENT) == ("event", [])
    own = v.Registry()
    own.register("demo", lambda doc, strict=False: ("thing", []), summary="demo")
    assert own.names() == ["demo"] and own.get("demo").judge({}) == ("thing", [])


def test_console_script_never_prints_a_traceback(tmp_path):
    """The installed entry point, end to end: a bad file is one line on stderr."""
    exe = Path(sys.executable).with_name("tbconform")
    if not exe.exists():
        pytest.skip("tbconform console script not installed next to this interpreter")
    res = subprocess.run([str(exe), "validate", "caliper", write(tmp_path, "b.json", "{")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
