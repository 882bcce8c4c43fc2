"""Compact builders for the small QTI 3.0 items the scoring tests write by hand (no tests here):
`declare(...)` a response with its correct response / mapping / area mapping, `item(...)` the whole
item around them, parsed through the hardened parser and compiled by the engine."""
from __future__ import annotations

from typing import Iterable
from xml.sax.saxutils import escape, quoteattr

from tbconform.mocks.scoring import ScoringItem, compile_item
from tbconform.specs.xmlsafe import parse

NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
MATCH = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"
MAP = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response"
MAP_POINT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response_point"


def _values(values: Iterable[str]) -> str:
    return "".join(f"<qti-value>{escape(str(v))}</qti-value>" for v in values)


def _bounds(default: float | None, lower: float | None, upper: float | None) -> str:
    out = ""
    for name, value in (("default-value", default), ("lower-bound", lower), ("upper-bound", upper)):
        if value is not None:
            out += f' {name}="{value}"'
    return out


def mapping(entries: dict[str, float] | list[tuple[str, float, bool]], default: float | None = None,
            lower: float | None = None, upper: float | None = None) -> str:
    """A qti-mapping; list entries are (key, value, case_sensitive)."""
    rows = entries.items() if isinstance(entries, dict) else entries
    body = ""
    for row in rows:
        key, value = row[0], row[1]
        sensitive = "" if len(row) < 3 else f' case-sensitive="{str(row[2]).lower()}"'
        body += f"<qti-map-entry map-key={quoteattr(key)} mapped-value=\"{value}\"{sensitive}/>"
    return f"<qti-mapping{_bounds(default, lower, upper)}>{body}</qti-mapping>"


def areas(entries: list[tuple[str, str, float]], default: float | None = None,
          lower: float | None = None, upper: float | None = None) -> str:
    """A qti-area-mapping of (shape, coords, value) entries."""
    body = "".join(f'<qti-area-map-entry shape="{s}" coords="{c}" mapped-value="{v}"/>'
                   for s, c, v in entries)
    return f"<qti-area-mapping{_bounds(default, lower, upper)}>{body}</qti-area-mapping>"


def declare(identifier: str = "RESPONSE", cardinality: str = "single", base_type: str = "identifier",
            correct: Iterable[str] = (), default: Iterable[str] = (), extra: str = "") -> str:
    """A qti-response-declaration; `extra` is a mapping() / areas() string."""
    correct, default = list(correct), list(default)
    inner = f"<qti-default-value>{_values(default)}</qti-default-value>" if default else ""
    inner += f"<qti-correct-response>{_values(correct)}</qti-correct-response>" if correct else ""
    return (f'<qti-response-declaration identifier="{identifier}" cardinality="{cardinality}" '
            f'base-type="{base_type}">{inner}{extra}</qti-response-declaration>')


def outcome(identifier: str = "SCORE", base_type: str = "float", cardinality: str = "single",
            default: str | None = None) -> str:
    inner = f"<qti-default-value><qti-value>{default}</qti-value></qti-default-value>" if default else ""
    return (f'<qti-outcome-declaration identifier="{identifier}" cardinality="{cardinality}" '
            f'base-type="{base_type}">{inner}</qti-outcome-declaration>')


def xml(*declarations: str, interaction: str = "qti-choice-interaction", rp: str | None = None,
        template: str | None = None, outcomes: Iterable[str] | None = None, tail: str = "",
        identifier: str = "item-1") -> str:
    """The item's XML: declarations, one `interaction` per response declaration, and response
    processing — `template` (a URI or name), `rp` (rules), both, or neither (no element)."""
    outcomes = [outcome()] if outcomes is None else list(outcomes)
    ids = [d.split('identifier="', 1)[1].split('"', 1)[0] for d in declarations]
    body = "".join(f'<{interaction} response-identifier="{i}"/>' for i in ids)
    processing = ""
    if template is not None or rp is not None:
        attr = f' template="{template}"' if template else ""
        processing = f"<qti-response-processing{attr}>{rp or ''}</qti-response-processing>"
    return (f'<qti-assessment-item xmlns="{NS}" identifier="{identifier}" title="t" adaptive="false" '
            f'time-dependent="false">{"".join(declarations)}{"".join(outcomes)}'
            f"<qti-item-body>{body}</qti-item-body>{processing}{tail}</qti-assessment-item>")


def item(*declarations: str, **options: object) -> ScoringItem:
    """The compiled item (see `xml` for the options)."""
    return compile_item(parse(xml(*declarations, **options)))  # type: ignore[arg-type]


def score(compiled: ScoringItem, response: object, identifier: str = "RESPONSE") -> float:
    return compiled.process({identifier: response}).score  # type: ignore[dict-item]
