"""The QTI plug-in of `tbconform validate`: `tbconform validate qti FILE... | -`.

Found by `harness/validate.py` by module name. It reads raw bytes (`reads="xml"`): a file that is
not well-formed is a finding with a line and rule id (exit 1), not a usage error. The one option,
`xsd_dir` (`--qti-xsd DIR` on the command line), adds validation against the official XSD; its
`prepare` hook loads the schema once, so a folder without a usable XSD is a usage error (exit 2)
before any file is judged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tbconform.specs.qti.structure import RULES, Problem, check_document


def judge(raw: bytes, *, xsd_dir: Path | None = None) -> tuple[str, list[Problem]]:
    """(kind, problems) of one QTI 3.0 document, recognised by its root element."""
    result = check_document(raw, xsd_dir=xsd_dir)
    return result.kind, result.problems


def prepare(options: dict[str, Any]) -> None:
    """Load the XSD of `xsd_dir` now (cached for the judging), or ValueError saying what is wrong."""
    folder = options.get("xsd_dir")
    if folder is not None:
        from tbconform.specs.qti import xsdcheck

        xsdcheck.load(Path(folder))


def register_validator(registry: Any) -> None:
    registry.register(
        "qti", judge, rules=RULES, reads="xml", options=("xsd_dir",), prepare=prepare,
        summary="QTI 3.0 items, tests, sections and stimuli: XML safety, namespace, identifiers, "
                "response declarations against their interactions, templates, test structure")


__all__ = ["judge", "prepare", "register_validator"]
