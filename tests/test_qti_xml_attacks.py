"""The XML-attack table: every hostile document is refused with its rule, quickly, and never
resolved (no file read, no network fetch, no expansion). Runs the checker in-process and once
through the CLI. Needs no reference material and no internet (the "remote" DTD is a local socket
that records whether anybody connected)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from tbconform.harness.cli import main
from tbconform.specs.qti.structure import check_document
from tests.qti_samples import CHOICE, NS

SECRET = "tbconform-xxe-canary-7f3a"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture
def listener():
    """A loopback socket standing in for an attacker's DTD server; `hits` counts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(True)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


def _item(body: str, prolog: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
            f'<qti-assessment-item xmlns="{NS}" identifier="x" title="x">\n{body}\n</qti-assessment-item>\n')


def _billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    return _item("<qti-item-body><p>&lol9;</p></qti-item-body>",
                 "<!DOCTYPE qti-assessment-item [\n" + "\n".join(entities) + "\n]>\n")


def _quadratic() -> str:
    blob = "A" * 50_000
    return _item("<qti-item-body><p>" + "&a;" * 20_000 + "</p></qti-item-body>",
                 f'<!DOCTYPE qti-assessment-item [<!ENTITY a "{blob}">]>\n')


def _deep() -> str:
    return _item("<qti-item-body>" + "<div>" * 50_000 + "</div>" * 50_000 + "</qti-item-body>")


def _huge() -> str:
    filler = "<p>" + "x" * 1000 + "</p>\n"
    return _item("<qti-item-body>\n" + filler * 5400 + "</qti-item-body>")


def _attacks(secret_path, port) -> list[tuple[str, bytes | str, str, int]]:
    """(name, document, rule, line)."""
    return [
        ("xxe-file", _item("<qti-item-body><p>&xxe;</p></qti-item-body>",
                           f'<!DOCTYPE qti-assessment-item [<!ENTITY xxe SYSTEM "file://{secret_path}">]>\n'),
         "qti.xml.entity-declaration", 2),
        ("xxe-parameter-entity", _item("<qti-item-body/>",
                                       f'<!DOCTYPE qti-assessment-item [<!ENTITY % p SYSTEM "file://{secret_path}"> %p;]>\n'),
         "qti.xml.entity-declaration", 2),
        ("external-dtd", _item("<qti-item-body/>",
                               f'<!DOCTYPE qti-assessment-item SYSTEM "http://127.0.0.1:{port}/evil.dtd">\n'),
         "qti.xml.doctype", 2),
        ("billion-laughs", _billion_laughs(), "qti.xml.entity-declaration", 3),
        ("quadratic-blowup", _quadratic(), "qti.xml.entity-declaration", 2),
        ("huge-document", _huge(), "qti.xml.too-large", 0),
        ("invalid-utf8", _item("<qti-item-body><p>caf\udcc3\udca9 \udcff</p></qti-item-body>")
         .encode("utf-8", "surrogateescape"), "qti.xml.encoding", 3),
        ("deep-nesting", _deep(), "qti.xml.too-deep", 3),
        ("undeclared-entity", _item("<qti-item-body><p>&nbsp;</p></qti-item-body>"), "qti.xml.well-formed", 3),
    ]


CASE_NAMES = ["xxe-file", "xxe-parameter-entity", "external-dtd", "billion-laughs", "quadratic-blowup",
              "huge-document", "invalid-utf8", "deep-nesting", "undeclared-entity"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_attack_refused_fast_and_never_resolved(name, secret_file, listener):
    port, hits = listener
    doc, rule, line = next((d, r, n) for c, d, r, n in _attacks(secret_file, port) if c == name)
    if name == "huge-document":
        assert len(doc) > 5 * 1024 * 1024
    started = time.perf_counter()
    result = check_document(doc)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{name} took {elapsed:.2f}s"
    assert [(p.rule, p.line) for p in result.problems] == [(rule, line)], result.problems
    assert result.kind == "unknown" and result.root is None
    assert SECRET not in repr(result)
    time.sleep(0.05 if name == "external-dtd" else 0)
    assert hits == [], "the external DTD was fetched"


def test_xinclude_is_not_processed(secret_file):
    doc = _item(f'<qti-item-body><p><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                f'href="file://{secret_file}" parse="text"/></p></qti-item-body>')
    result = check_document(doc)
    assert result.root is not None
    from lxml import etree

    assert SECRET not in etree.tostring(result.root, encoding="unicode")


def test_cli_refuses_a_bomb_with_exit_1_and_its_rule(tmp_path, capsys):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(_billion_laughs(), encoding="utf-8")
    good = tmp_path / "good.xml"
    good.write_text(CHOICE, encoding="utf-8")
    assert main(["validate", "qti", str(good), str(bomb)]) == 1
    out = capsys.readouterr().out
    assert f"{bomb}: invalid document (1 problem)" in out
    assert "line 3" in out and "qti.xml.entity-declaration" in out
    assert str(good) + ":" not in out
