"""`tbconform validate qti FILE... | -` and `--qti-xsd DIR` (validate and mock): exit codes, line
numbers and rule ids in text and JSON, stdin, progress, XSD validation with a tiny XSD written
here. Needs no reference material, except one test that reads the shared QTI XSD folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tbconform.harness import validate as v
from tbconform.harness.cli import main
from tests.conftest import shared_dir
from tests.qti_samples import CHOICE, NS, TEST, VALID_DOCUMENTS, line_of

TINY_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}" xmlns="{NS}"
           elementFormDefault="qualified">
  <xs:include schemaLocation="parts/attributes.xsd"/>
  <xs:element name="qti-assessment-item">
    <xs:complexType>
      <xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
      <xs:attributeGroup ref="itemAttributes"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
TINY_PART = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}">
  <xs:attributeGroup name="itemAttributes">
    <xs:attribute name="identifier" type="xs:string" use="required"/>
    <xs:attribute name="title" type="xs:string" use="required"/>
    <xs:attribute name="adaptive" type="xs:boolean"/>
    <xs:attribute name="time-dependent" type="xs:boolean"/>
  </xs:attributeGroup>
</xs:schema>
"""


def write(folder: Path, name: str, text: str | bytes) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else lambda t: path.write_text(t, encoding="utf-8"))(text)
    return str(path)


@pytest.fixture
def xsd_dir(tmp_path) -> Path:
    folder = tmp_path / "xsd"
    write(folder, "imsqti_asiv3p0_v1p0.xsd", TINY_XSD)
    write(folder, "parts/attributes.xsd", TINY_PART)
    write(folder, "other.xsd", '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x"/>')
    return folder


BROKEN = CHOICE.replace('max-choices="1"', 'max-choices="2"').replace("<qti-value>B", "<qti-value>D")


def test_valid_documents_exit_0(tmp_path, capsys):
    files = [write(tmp_path, f"{name}.xml", doc) for name, doc in VALID_DOCUMENTS.items()]
    assert main(["validate", "qti", *files]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == f"{len(files)} files judged, {len(files)} valid, 0 invalid"
    assert out.err == ""


def test_invalid_file_exit_1_with_line_and_rule(tmp_path, capsys):
    good, bad = write(tmp_path, "good.xml", CHOICE), write(tmp_path, "bad.xml", BROKEN)
    assert main(["validate", "qti", good, bad]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: invalid item (2 problems)" in out
    declaration = line_of(BROKEN, "<qti-response-declaration")
    assert f"line {declaration}  qti.response.cardinality" in out
    assert f"line {line_of(BROKEN, '<qti-value>D')}  qti.response.choice-unknown" in out
    assert good + ":" not in out
    assert out.strip().endswith("2 files judged, 1 valid, 1 invalid")


def test_malformed_xml_is_a_finding_not_a_usage_error(tmp_path, capsys):
    bad = write(tmp_path, "bad.xml", CHOICE.replace("</qti-prompt>", ""))
    assert main(["validate", "qti", bad]) == 1
    out = capsys.readouterr().out
    assert "qti.xml.well-formed" in out and "invalid document" in out


@pytest.mark.parametrize("make, message", [
    (lambda d: str(d / "missing.xml"), "no such file"),
    (lambda d: str(d), "is a directory"),
    (lambda d: write(d, "empty.xml", "  \n"), "empty, not XML"),
])
def test_unreadable_or_empty_file_exit_2_one_line(tmp_path, capsys, make, message):
    name = make(tmp_path)
    assert main(["validate", "qti", write(tmp_path, "ok.xml", CHOICE), name]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("tbconform validate: ")


def test_unknown_option_exit_2(tmp_path, capsys):
    assert main(["validate", "qti", "--no-such-flag", write(tmp_path, "a.xml", CHOICE)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--no-such-flag" in err[0]


def test_stdin(monkeypatch, capsys):
    class Stdin:
        buffer = __import__("io").BytesIO(BROKEN.encode())

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert main(["validate", "qti", "-"]) == 1
    out = capsys.readouterr().out
    assert "<stdin>: invalid item (2 problems)" in out and "qti.response.cardinality" in out


def test_json_format_carries_lines_paths_and_rules(tmp_path, capsys):
    bad = write(tmp_path, "bad.xml", BROKEN)
    assert main(["validate", "qti", "--format", "json", bad, write(tmp_path, "t.xml", TEST)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["api"] == "qti" and doc["valid"] is False
    first, second = doc["files"]
    assert first["kind"] == "item" and first["valid"] is False
    assert {(p["rule"], p["line"]) for p in first["problems"]} == {
        ("qti.response.cardinality", line_of(BROKEN, "<qti-response-declaration")),
        ("qti.response.choice-unknown", line_of(BROKEN, "<qti-value>D"))}
    assert all(p["path"].startswith("/qti-assessment-item/qti-response-declaration") for p in first["problems"])
    assert second == {"file": str(tmp_path / "t.xml"), "kind": "test", "valid": True, "problems": []}


def test_rules_lists_qti_rule_ids(capsys):
    assert main(["validate", "qti", "--rules"]) == 0
    out = capsys.readouterr().out
    for rule in ("qti.namespace", "qti.response.cardinality", "qti.test.item-ref-unresolved", "qti.xsd"):
        assert rule in out


def test_progress_over_100_files(tmp_path, capsys):
    files = [write(tmp_path, f"i{n}.xml", CHOICE) for n in range(101)]
    assert main(["validate", "qti", *files]) == 0
    err = capsys.readouterr().err
    assert "validate: 101/101 files (100 %)" in err


def test_json_validators_still_read_json(tmp_path, capsys):
    assert v.registry().get("caliper").reads == "json"
    assert main(["validate", "caliper", write(tmp_path, "a.xml", CHOICE)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# --qti-xsd
# ----------------------------------------------------------------------------------------------


def test_qti_xsd_reports_xsd_errors_with_lines(tmp_path, xsd_dir, capsys):
    good = write(tmp_path, "good.xml", CHOICE)
    untitled = CHOICE.replace(' title="choice"', "")
    bad = write(tmp_path, "bad.xml", untitled)
    assert main(["validate", "qti", "--qti-xsd", str(xsd_dir), good]) == 0
    capsys.readouterr()
    assert main(["validate", "qti", "--qti-xsd", str(xsd_dir), "--format", "json", good, bad]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["valid"] is True
    (problem,) = doc["files"][1]["problems"]
    assert problem["rule"] == "qti.xsd" and "title" in problem["message"]
    assert problem["line"] == line_of(untitled, "<qti-assessment-item")
    assert problem["path"] == "/qti-assessment-item"
    # without the option the same document has no structural problem
    assert main(["validate", "qti", bad]) == 0


@pytest.mark.parametrize("setup, message", [
    (lambda d: d / "absent", "no such folder"),
    (lambda d: d, "no XSD with targetNamespace"),
    (lambda d: Path(write(d, "x/imsqti_asiv3p0_v1p0.xsd", TINY_XSD)).parent, "which is not at"),
    (lambda d: Path(write(d, "y/a.xsd", TINY_XSD.replace("parts/attributes.xsd",
                                                         "http://127.0.0.1:9/attributes.xsd"))).parent,
     "only local files are read"),
    (lambda d: Path(write(d, "z/a.xsd", f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                                        f'targetNamespace="{NS}"><xs:element name="qti-assessment-item" type="nope"/></xs:schema>')).parent,
     "not a usable XSD"),
])
def test_unusable_xsd_dir_exit_2_one_line(tmp_path, capsys, setup, message):
    folder = tmp_path / "dir"
    folder.mkdir()
    target = setup(folder)
    assert main(["validate", "qti", "--qti-xsd", str(target), write(tmp_path, "a.xml", CHOICE)]) == 2
    out = capsys.readouterr()
    err = out.err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("tbconform validate: --qti-xsd: ")
    assert out.out == ""  # nothing judged


def test_qti_xsd_on_another_api_exit_2(tmp_path, xsd_dir, capsys):
    assert main(["validate", "caliper", "--qti-xsd", str(xsd_dir), write(tmp_path, "a.json", "{}")]) == 2
    assert "caliper has no --qti-xsd option" in capsys.readouterr().err


def test_shared_reference_xsd_folder(capsys, tmp_path):
    folder = shared_dir() / "reference" / "qti" / "xsd"
    if not folder.is_dir():
        pytest.skip(f"QTI XSD reference folder not found at {folder} (set TBCONFORM_SHARED)")
    from tbconform.specs.qti import xsdcheck

    # every QTI-namespace XSD there pulls its imports from local files only
    asi = [p for p in folder.rglob("*.xsd") if f'targetNamespace="{NS}"' in p.read_text("utf-8", "replace")[:4000]]
    assert asi, "no QTI 3.0 namespace XSD in the reference folder"
    for path in asi:
        xsdcheck._check_local(path, set())
    code = main(["validate", "qti", "--qti-xsd", str(folder), write(tmp_path, "a.xml", CHOICE)])
    out = capsys.readouterr()
    if any(p.name in xsdcheck.PREFERRED for p in asi):  # someone added the full ASI schema
        assert code == 0, out
    else:  # only the partial XSDs (the ASI one is too large to ship): one clear line, exit 2
        err = out.err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "found only partial QTI schemas" in err[0], err


def test_mock_takes_qti_xsd_into_the_sandbox_config(monkeypatch, xsd_dir, capsys):
    from tbconform.mocks import server

    seen = {}
    monkeypatch.setattr(server, "serve", lambda config, host, port, access_log=False: seen.update(config=config))
    monkeypatch.setattr(server, "port_free", lambda host, port: True)
    assert main(["mock", "--qti-xsd", str(xsd_dir)]) == 0
    assert seen["config"].qti_xsd_dir == xsd_dir
    assert main(["mock", "--qti-xsd", str(xsd_dir / "absent")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tbconform mock: --qti-xsd: ") and "no such folder" in err[0]


def test_console_script_never_prints_a_traceback(tmp_path):
    garbage = write(tmp_path, "garbage.xml", bytes(range(256)) * 4)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-m", "tbconform.harness.cli", "validate", "qti", garbage,
                           write(tmp_path, "t.xml", TEST)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "qti.xml." in proc.stdout
