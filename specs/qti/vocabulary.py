"""What QTI 3.0 says about interactions, variables and values, as tables `structure.py` reads.

Kept apart from the walker so that the facts (which cardinality and base type an interaction
produces, which elements are choices, how a value of each base type is written) can be read and
reviewed on their own, and reused by the scorer and the sandbox if they need them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"

ROOTS: dict[str, str] = {
    "qti-assessment-item": "item",
    "qti-assessment-test": "test",
    "qti-assessment-section": "section",
    "qti-assessment-stimulus": "stimulus",
}
KINDS = frozenset(ROOTS.values())

CARDINALITIES = frozenset({"single", "multiple", "ordered", "record"})
BASE_TYPES = frozenset({"identifier", "boolean", "integer", "float", "string", "point", "pair",
                        "directedPair", "duration", "file", "uri", "intOrIdentifier"})

# Variables every item has without declaring them (QTI 3.0 §"built-in variables").
BUILTIN_RESPONSES = frozenset({"numAttempts", "duration"})
BUILTIN_OUTCOMES = frozenset({"completionStatus"})

STANDARD_TEMPLATES = frozenset({"match_correct", "map_response", "map_response_point"})


@dataclass(frozen=True)
class Produces:
    """What an interaction's response variable may be declared as.

    `cardinalities` None: any (custom and portable interactions). `max_choices`: the attribute
    that bounds how many values the candidate can give, and its default; with it, `single`
    cardinality requires that bound to be 1 (QTI: "if the response variable has single
    cardinality the only permissible value for max-choices is 1"). `choices`: whether the
    interaction offers identified choices that correct responses and mappings must draw from.
    """

    cardinalities: frozenset[str] | None
    base_types: frozenset[str] | None
    max_choices: tuple[str, int] | None = None
    choices: bool = False


def _p(cards: str | None, types: str | None, max_choices: tuple[str, int] | None = None,
       choices: bool = False) -> Produces:
    return Produces(frozenset(cards.split()) if cards else None,
                    frozenset(types.split()) if types else None, max_choices, choices)


INTERACTIONS: dict[str, Produces] = {
    "qti-choice-interaction": _p("single multiple", "identifier", ("max-choices", 1), True),
    "qti-order-interaction": _p("ordered", "identifier", None, True),
    "qti-match-interaction": _p("single multiple", "directedPair", ("max-associations", 1), True),
    "qti-associate-interaction": _p("single multiple", "pair", ("max-associations", 1), True),
    "qti-gap-match-interaction": _p("single multiple", "directedPair", None, True),
    "qti-inline-choice-interaction": _p("single", "identifier", None, True),
    "qti-text-entry-interaction": _p("single", "string integer float"),
    "qti-extended-text-interaction": _p("single multiple ordered", "string integer float"),
    "qti-hottext-interaction": _p("single multiple", "identifier", ("max-choices", 1), True),
    "qti-hotspot-interaction": _p("single multiple", "identifier", ("max-choices", 1), True),
    "qti-select-point-interaction": _p("single multiple", "point", ("max-choices", 1)),
    "qti-slider-interaction": _p("single", "integer float"),
    "qti-graphic-order-interaction": _p("ordered", "identifier", None, True),
    "qti-graphic-associate-interaction": _p("single multiple", "pair", ("max-associations", 1), True),
    "qti-graphic-gap-match-interaction": _p("single multiple", "directedPair", None, True),
    "qti-position-object-interaction": _p("single multiple", "point", ("max-choices", 1)),
    "qti-media-interaction": _p("single", "integer"),
    "qti-upload-interaction": _p("single", "file"),
    "qti-drawing-interaction": _p("single", "file"),
    "qti-end-attempt-interaction": _p("single", "boolean"),
    "qti-custom-interaction": _p(None, None),
    "qti-portable-custom-interaction": _p(None, None),
}

# The base type a response declaration that leaves it out takes from its interaction: the one it
# produces, or the most general of several (text entry, extended text: string; slider: float).
IMPLIED_BASE_TYPES: dict[str, str] = {
    name: next(iter(p.base_types)) if len(p.base_types) == 1 else "string" if "string" in p.base_types else "float"
    for name, p in INTERACTIONS.items() if p.base_types}

# Elements whose `identifier` is a choice the candidate can pick (must be unique in the item).
CHOICES = frozenset({"qti-simple-choice", "qti-simple-associable-choice", "qti-gap-text",
                     "qti-gap-img", "qti-gap", "qti-hotspot-choice", "qti-associable-hotspot",
                     "qti-inline-choice", "qti-hottext"})
DECLARATIONS: dict[str, str] = {
    "qti-response-declaration": "response",
    "qti-outcome-declaration": "outcome",
    "qti-template-declaration": "template",
    "qti-context-declaration": "context",
}
VARIABLES = frozenset(DECLARATIONS.values())
FEEDBACK = frozenset({"qti-modal-feedback", "qti-feedback-inline", "qti-feedback-block",
                      "qti-test-feedback"})

AREA_SHAPES: dict[str, tuple[int, bool]] = {  # shape -> (coordinates, or the minimum when "at least")
    "circle": (3, False), "rect": (4, False), "ellipse": (4, False), "poly": (6, True),
    "default": (0, True),
}

# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------

IDENTIFIER = re.compile(r"^[^\W\d][\w.\-]*$")  # xs:NCName, as QTI identifiers are
_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN)$")
_ISO_DURATION = re.compile(r"^-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?"
                           r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


def _two(text: str, part: re.Pattern[str]) -> bool:
    bits = text.split()
    return len(bits) == 2 and all(part.match(b) for b in bits)


_PARSERS = {
    "identifier": IDENTIFIER.match,
    "boolean": lambda v: v in ("true", "false", "1", "0"),
    "integer": _INTEGER.match,
    "float": _FLOAT.match,
    "point": lambda v: _two(v, _INTEGER),
    "pair": lambda v: _two(v, IDENTIFIER),
    "directedPair": lambda v: _two(v, IDENTIFIER),
    "duration": lambda v: bool(_FLOAT.match(v) or _ISO_DURATION.match(v)),
    "intOrIdentifier": lambda v: bool(_INTEGER.match(v) or IDENTIFIER.match(v)),
}
_SHAPES = {
    "identifier": "an identifier (letters, digits, _ . -, not starting with a digit)",
    "boolean": "true or false", "integer": "a whole number", "float": "a number",
    "point": "two whole numbers 'x y'", "pair": "two identifiers 'A B'",
    "directedPair": "two identifiers 'source target'",
    "duration": "a number of seconds", "intOrIdentifier": "a whole number or an identifier",
}


def value_fits(base_type: str, text: str) -> bool:
    """Whether `text` (already stripped) is a value of `base_type`; unknown or free types pass."""
    parse = _PARSERS.get(base_type)
    return True if parse is None else bool(parse(text))


def value_shape(base_type: str) -> str:
    """How a value of `base_type` is written, for messages."""
    return _SHAPES.get(base_type, f"a {base_type}")


def choice_ids(base_type: str, text: str) -> list[str]:
    """The choice identifiers a value of `base_type` names (none for non-identifier types)."""
    if base_type == "identifier":
        return [text]
    if base_type in ("pair", "directedPair"):
        return text.split()
    return []


def is_number(text: str | None) -> bool:
    return text is not None and bool(_FLOAT.match(text.strip()))


def template_name(uri: str) -> str:
    """`https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml` -> match_correct."""
    tail = uri.strip().rstrip("/").rsplit("/", 1)[-1]
    return tail[:-4] if tail.endswith(".xml") else tail
