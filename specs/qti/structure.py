"""QTI 3.0 structural checks: what an XSD cannot see, each problem with its line and a rule id.

Shared by `tbconform validate qti`, the sandbox's `POST /validate` and the harness. One call:

    >>> check_document(xml, kind="item").problems
    [Problem(line=7, rule='qti.response.cardinality', message='...', path='/qti-assessment-item/...')]

How it works: the document is parsed by `tbconform.specs.xmlsafe` (no DTD, no entities, a size
limit), then walked ONCE in document order (`root.iter()`, a dict dispatch on the local name, no
XPath per element). The walk records declarations with their position, and every reference with
its own; the checks that need the whole document (references, interaction/declaration
consistency, templates, test structure) run on those records afterwards. With `xsd_dir`, the
document is also validated against the official XSD found there (`xsdcheck.py`).

Decisions worth knowing (the rule texts in `RULES` say the same):

* xmlsafe's refusals keep their ids under the `qti.` prefix (`qti.xml.doctype`, ...); libxml2's
  depth limit, reported by xmlsafe as not well-formed, becomes `qti.xml.too-deep`.
* Choice identifiers share the item's identifier space with variables, as QTI says ("must not
  be used by any other choice or item variable"); the root's identifier is not in that space and
  is not held to identifier syntax (QTI types it as a string).
* `single` cardinality with `max-choices` (or `max-associations`) other than 1 is a problem;
  `multiple` with a bound of 1 is allowed (QTI allows it).
* The standard templates read RESPONSE and set SCORE: both must be declared, SCORE as `single`
  `float` (or `integer`, which scorers coerce); map_response needs RESPONSE's qti-mapping and
  map_response_point its qti-area-mapping on a point response. Other template URIs are not
  judged (they cannot be fetched offline).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from lxml import etree

from tbconform.specs import xmlsafe
from tbconform.specs.qti import vocabulary as V
from tbconform.specs.qti.declaration_checks import DeclarationChecks

RULES: dict[str, str] = {
    "qti.xml.well-formed": "The document is well-formed XML.",
    "qti.xml.doctype": "The document has no DOCTYPE (QTI 3.0 needs no DTD; DTDs carry XXE).",
    "qti.xml.entity-declaration": "The document declares and references no entities.",
    "qti.xml.encoding": "The bytes are UTF-8 (or the encoding the XML declaration names).",
    "qti.xml.too-large": "The document is at most 5 MiB.",
    "qti.xml.too-deep": "Elements nest at most 256 deep.",
    "qti.namespace": "The root element is in the QTI 3.0 namespace "
                     "http://www.imsglobal.org/xsd/imsqtiasi_v3p0.",
    "qti.root": "The root is qti-assessment-item, -test, -section or -stimulus (the kind asked for, "
                "when one is).",
    "qti.identifier.missing": "The root, every declaration, choice, test part and section has an "
                              "identifier.",
    "qti.identifier.syntax": "Identifiers of variables, choices, parts, sections and references are "
                             "QTI identifiers (xs:NCName: no spaces, not starting with a digit).",
    "qti.identifier.duplicate": "Identifiers are unique within the document (declarations, choices, "
                                "test parts, sections, item and section references).",
    "qti.identifier.undeclared": "Every identifier a qti-variable, qti-correct, qti-default, "
                                 "qti-map-response, feedback, printed variable, branch rule or "
                                 "test variable names resolves to a declaration of the right kind.",
    "qti.identifier.before-use": "A variable is declared before its first use (declarations come "
                                 "first in QTI).",
    "qti.declaration.attributes": "A declaration has a known cardinality, and a known base-type "
                                  "unless its cardinality is record.",
    "qti.declaration.default-value": "qti-default-value values parse as the base type; single holds "
                                     "exactly one.",
    "qti.interaction.response-identifier": "Every interaction has a response-identifier attribute.",
    "qti.interaction.response-undeclared": "An interaction's response-identifier names a response "
                                           "declaration.",
    "qti.interaction.attribute": "max-choices, min-choices and max-associations are whole numbers "
                                 "0 or more, and min is not above max.",
    "qti.response.cardinality": "A response's cardinality fits what its interaction produces "
                                "(single only when at most one value can be given).",
    "qti.response.base-type": "A response's base-type is the one its interaction produces.",
    "qti.response.correct-value": "qti-correct-response values parse as the response's base type.",
    "qti.response.correct-count": "A single response's qti-correct-response holds exactly one value "
                                  "(multiple and ordered: at least one).",
    "qti.response.choice-unknown": "Choice identifiers in a correct response or mapping are choices "
                                   "of the response's interaction.",
    "qti.response.mapping-key": "qti-map-entry map-keys parse as the response's base type and are "
                                "not repeated.",
    "qti.response.mapping-value": "Mapped values, default values and bounds are numbers; the lower "
                                  "bound is not above the upper.",
    "qti.response.area-mapping": "qti-area-mapping is used only on point responses; each area has a "
                                 "known shape and the right number of numeric coordinates.",
    "qti.outcome.undeclared": "Every outcome response processing sets (qti-set-outcome-value, "
                              "qti-lookup-outcome-value) has an outcome declaration.",
    "qti.processing.mapping": "qti-map-response names a response with a qti-mapping; "
                              "qti-map-response-point one with a qti-area-mapping.",
    "qti.template.response": "A standard template's RESPONSE is declared (map_response: with a "
                             "qti-mapping; map_response_point: point, with a qti-area-mapping).",
    "qti.template.score": "A standard template's SCORE outcome is declared, single float (or "
                          "integer).",
    "qti.test.structure": "A test has at least one test part, and each part at least one section.",
    "qti.test.item-ref": "Every qti-assessment-item-ref (and section ref) has an identifier and "
                         "an href.",
    "qti.test.item-ref-unresolved": "Every referenced item is known (by its identifier or its "
                                    "href's base name), when the checker is told which items exist.",
    "qti.xsd": "The document is valid against the official QTI 3.0 XSD (only with --qti-xsd).",
}


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based; 0 when unknown
    rule: str  # a key of RULES
    message: str
    path: str = "/"  # XPath-ish location: /qti-assessment-item/qti-response-declaration[2]


@dataclass
class CheckResult:
    kind: str  # item | test | section | stimulus | unknown
    problems: list[Problem] = field(default_factory=list)
    root: etree._Element | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def check_document(xml: str | bytes, *, kind: str | None = None,
                   known_items: Callable[[str], bool] | None = None,
                   xsd_dir: Path | None = None) -> CheckResult:
    """Every structural problem of one QTI 3.0 document (and XSD problems with `xsd_dir`).

    `kind` ("item", "test", "section", "stimulus") makes another root a `qti.root` problem;
    `known_items(identifier)` makes unresolved test item references problems. An unusable
    `xsd_dir` raises ValueError (a caller's configuration error, not a document problem).
    """
    if kind is not None and kind not in V.KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(V.KINDS))}, not {kind!r}")
    schemas = None
    if xsd_dir is not None:
        from tbconform.specs.qti import xsdcheck

        schemas = xsdcheck.load(Path(xsd_dir))
    try:
        root = xmlsafe.parse(xml)
    except xmlsafe.XmlRefused as exc:
        return CheckResult("unknown", [Problem(exc.line, *_refusal(exc))])
    except UnicodeError as exc:  # a str holding lone surrogates cannot even be encoded
        return CheckResult("unknown", [Problem(0, "qti.xml.encoding", f"not encodable as UTF-8: {exc}")])
    walk = _Walk(root, known_items)
    found = walk.run(kind)
    problems = walk.problems
    if schemas is not None and found != "unknown":
        problems.extend(_xsd_problems(root, schemas.validate(root)))
    problems.sort(key=lambda p: p.line)
    return CheckResult(found, problems, root)


def _xsd_problems(root: etree._Element, errors: list[tuple[int, str, str]]) -> list[Problem]:
    """libxml2 names the place as /*/*[2]; ours is readable: the first element on the line."""
    if not errors:
        return []
    by_line: dict[int, etree._Element] = {}
    for el in root.iter(etree.Element):
        by_line.setdefault(el.sourceline or 0, el)
    return [Problem(line, "qti.xsd", message, _path(by_line[line]) if line in by_line else path)
            for line, message, path in errors]


def _refusal(exc: xmlsafe.XmlRefused) -> tuple[str, str]:
    """(rule, message) of an xmlsafe refusal; libxml2's depth limit gets its own rule and words."""
    if exc.rule == "xml.well-formed" and "excessive depth" in exc.message.lower():
        return "qti.xml.too-deep", "elements nest more than 256 levels deep; the document is refused"
    return f"qti.{exc.rule}", exc.message


# ----------------------------------------------------------------------------------------------
# The walk
# ----------------------------------------------------------------------------------------------


@dataclass
class _Declared:
    category: str  # response | outcome | template | context
    element: etree._Element
    order: int


@dataclass
class _Ref:
    name: str
    categories: frozenset[str]
    element: etree._Element
    order: int
    rule: str


_ANY = V.VARIABLES
_RESPONSE = frozenset({"response"})
_OUTCOME = frozenset({"outcome"})
_TEMPLATE = frozenset({"template"})
_EXITS = frozenset({"EXIT_TEST", "EXIT_TESTPART", "EXIT_SECTION"})


_UNDECLARED = "qti.identifier.undeclared"
# element -> (attribute naming a variable, the kinds of declaration it may name, rule when it does not)
_REFERENCES: dict[str, tuple[str, frozenset[str], str]] = {
    **{name: ("outcome-identifier", _OUTCOME, _UNDECLARED) for name in V.FEEDBACK},
    "qti-template-inline": ("template-identifier", _TEMPLATE, _UNDECLARED),
    "qti-template-block": ("template-identifier", _TEMPLATE, _UNDECLARED),
    "qti-default": ("identifier", _ANY, _UNDECLARED),
    "qti-correct": ("identifier", _RESPONSE, _UNDECLARED),
    "qti-set-outcome-value": ("identifier", _OUTCOME, "qti.outcome.undeclared"),
    "qti-lookup-outcome-value": ("identifier", _OUTCOME, "qti.outcome.undeclared"),
    "qti-set-template-value": ("identifier", _TEMPLATE, _UNDECLARED),
    "qti-set-correct-response": ("identifier", _RESPONSE, _UNDECLARED),
    "qti-set-default-value": ("identifier", _ANY, _UNDECLARED),
    "qti-printed-variable": ("identifier", frozenset({"outcome", "template"}), _UNDECLARED),
}
_DISPATCH: dict[str, Callable[..., None]] = {}


def _dispatch() -> dict[str, Callable[..., None]]:
    """Local name -> the _Walk method that records it; built once."""
    if not _DISPATCH:
        table: dict[str, Callable[..., None]] = {name: _Walk._reference for name in _REFERENCES}
        table.update({name: _Walk._declaration for name in V.DECLARATIONS})
        table.update({name: _Walk._interaction for name in V.INTERACTIONS})
        table.update({name: _Walk._choice for name in V.CHOICES})
        table.update({"qti-variable": _Walk._variable, "qti-map-response": _Walk._map_use,
                      "qti-map-response-point": _Walk._map_use,
                      "qti-response-processing": _Walk._processing,
                      "qti-test-part": _Walk._structural, "qti-assessment-section": _Walk._structural,
                      "qti-assessment-item-ref": _Walk._item_ref,
                      "qti-assessment-section-ref": _Walk._item_ref, "qti-branch-rule": _Walk._branch})
        _DISPATCH.update(table)
    return _DISPATCH


class _Walk(DeclarationChecks):
    """One document's records, filled in one pass, then judged as a whole."""

    def __init__(self, root: etree._Element, known_items: Callable[[str], bool] | None) -> None:
        self.root = root
        self.known_items = known_items
        self.problems: list[Problem] = []
        self.kind = "unknown"
        self.prefix = ""
        self.ids: dict[str, etree._Element] = {}
        self.variables: dict[str, _Declared] = {}
        self.declarations: list[etree._Element] = []
        self.refs: list[_Ref] = []
        self.interactions: list[tuple[etree._Element, str, str]] = []  # element, local, response id
        self.choices: dict[etree._Element, set[str]] = {}
        self.templates: list[etree._Element] = []
        self.map_uses: list[tuple[etree._Element, str]] = []  # element, local name
        self.parts: list[etree._Element] = []
        self.refs_to_items: list[etree._Element] = []
        self.structure_ids: set[str] = set()  # test parts, sections, item refs (branch targets)
        self.branches: list[etree._Element] = []
        self.dotted: list[etree._Element] = []

    def add(self, el: etree._Element, rule: str, message: str) -> None:
        self.problems.append(Problem(el.sourceline or 0, rule, message, _path(el)))

    # -- the pass --------------------------------------------------------------------------

    def run(self, expected: str | None) -> str:
        root = self.root
        ns, local = _split(root.tag)
        kind = V.ROOTS.get(local)
        if kind is None:
            known = ", ".join(V.ROOTS)
            self.add(root, "qti.root", f"<{local}> is not a QTI 3.0 root element (expected one of {known})")
            return "unknown"
        if ns != V.QTI_NS:
            self.add(root, "qti.namespace", _namespace_message(ns))
        if expected is not None and kind != expected:
            self.add(root, "qti.root", f"expected {_a(expected)} (<{_root_of(expected)}>), got <{local}>")
        self.kind = kind
        self.prefix = f"{{{ns}}}" if ns else ""
        if not (root.get("identifier") or "").strip():
            self.add(root, "qti.identifier.missing", f"<{local}> has no identifier")
        handlers = _dispatch()
        prefix, cut = self.prefix, len(self.prefix)
        for order, el in enumerate(root.iter(etree.Element)):
            tag = el.tag
            if el is root or not tag.startswith(prefix) or (not prefix and tag[0] == "{"):
                continue
            handler = handlers.get(tag[cut:])
            if handler is not None:
                handler(self, el, tag[cut:], order)
        self._resolve_references()
        self._check_interactions()
        for decl in self.declarations:
            self._check_declaration(decl)
        self._check_templates()
        self._check_map_uses()
        if kind in ("test", "section"):
            self._check_test()
        return kind

    def _reference(self, el: etree._Element, local: str, order: int) -> None:
        attr, categories, rule = _REFERENCES[local]
        self._ref(el, attr, categories, order, rule)

    def _branch(self, el: etree._Element, local: str, order: int) -> None:
        self.branches.append(el)

    def _identify(self, el: etree._Element, local: str, *, required: bool = True) -> str | None:
        name = el.get("identifier")
        if name is None or not name.strip():
            if required:
                self.add(el, "qti.identifier.missing", f"<{local}> has no identifier")
            return None
        if not V.IDENTIFIER.match(name):
            self.add(el, "qti.identifier.syntax",
                     f"identifier {name!r} of <{local}> is not a QTI identifier (letters, digits, "
                     f"_ . -; no spaces; not starting with a digit)")
        first = self.ids.get(name)
        if first is not None:
            self.add(el, "qti.identifier.duplicate",
                     f"identifier {name!r} of <{local}> is already used by <{_local(first)}> on "
                     f"line {first.sourceline}")
        else:
            self.ids[name] = el
        return name

    def _declaration(self, el: etree._Element, local: str, order: int) -> None:
        self.declarations.append(el)
        name = self._identify(el, local)
        if name is not None and name not in self.variables:
            self.variables[name] = _Declared(V.DECLARATIONS[local], el, order)

    def _interaction(self, el: etree._Element, local: str, order: int) -> None:
        rid = el.get("response-identifier")
        if rid is None or not rid.strip():
            self.add(el, "qti.interaction.response-identifier", f"<{local}> has no response-identifier")
        else:
            self.refs.append(_Ref(rid, _RESPONSE, el, order, "qti.interaction.response-undeclared"))
            self.interactions.append((el, local, rid))
        self.choices[el] = set()
        bounds = {}
        for attr in ("min-choices", "max-choices", "max-associations", "min-associations"):
            raw = el.get(attr)
            if raw is None:
                continue
            if not raw.strip().isdigit():
                self.add(el, "qti.interaction.attribute",
                         f"{attr}={raw!r} of <{local}> is not a whole number 0 or more")
            else:
                bounds[attr] = int(raw)
        for lo, hi in (("min-choices", "max-choices"), ("min-associations", "max-associations")):
            if lo in bounds and bounds.get(hi, 0) and bounds[lo] > bounds[hi]:
                self.add(el, "qti.interaction.attribute",
                         f"{lo}={bounds[lo]} of <{local}> is above {hi}={bounds[hi]}")

    def _choice(self, el: etree._Element, local: str, order: int) -> None:
        name = self._identify(el, local)
        if name is None:
            return
        for anc in el.iterancestors():
            bucket = self.choices.get(anc)
            if bucket is not None:
                bucket.add(name)
                break

    def _ref(self, el: etree._Element, attr: str, categories: frozenset[str], order: int,
             rule: str = "qti.identifier.undeclared") -> None:
        name = el.get(attr)
        if name is None or not name.strip():
            return  # a missing required attribute is the XSD's finding, not a reference
        self.refs.append(_Ref(name.strip(), categories, el, order, rule))

    def _variable(self, el: etree._Element, local: str, order: int) -> None:
        name = (el.get("identifier") or "").strip()
        if self.kind in ("test", "section") and "." in name:
            self.dotted.append(el)  # itemRef.VARIABLE: resolved against the item references
        else:
            self._ref(el, "identifier", _ANY, order)

    def _map_use(self, el: etree._Element, local: str, order: int) -> None:
        self._ref(el, "identifier", _RESPONSE, order)
        self.map_uses.append((el, local))

    def _processing(self, el: etree._Element, local: str, order: int) -> None:
        if el.get("template") or el.get("template-location"):
            self.templates.append(el)

    def _structural(self, el: etree._Element, local: str, order: int) -> None:
        name = self._identify(el, local)
        if name is not None:
            self.structure_ids.add(name)
        if local == "qti-test-part":
            self.parts.append(el)

    def _item_ref(self, el: etree._Element, local: str, order: int) -> None:
        missing = [a for a in ("identifier", "href") if not (el.get(a) or "").strip()]
        if missing:
            self.add(el, "qti.test.item-ref", f"<{local}> has no {' and no '.join(missing)}")
        name = self._identify(el, local, required=False)
        if name is not None:
            self.structure_ids.add(name)
        if local == "qti-assessment-item-ref" and not missing:
            self.refs_to_items.append(el)

    # -- judgements over the records ------------------------------------------------------

    def _resolve_references(self) -> None:
        for ref in self.refs:
            declared = self.variables.get(ref.name)
            what = f"<{_local(ref.element)}> names {ref.name!r}"
            if declared is None:
                if _builtin(ref.name, ref.categories):
                    continue
                self.add(ref.element, ref.rule,
                         f"{what}, but no {_kinds(ref.categories)} declaration has that identifier")
            elif declared.category not in ref.categories:
                self.add(ref.element, ref.rule,
                         f"{what}, which is declared as a {declared.category} variable; "
                         f"{_a(_kinds(ref.categories))} variable is needed")
            elif declared.order > ref.order:
                self.add(ref.element, "qti.identifier.before-use",
                         f"{what} before its declaration on line {declared.element.sourceline} "
                         f"(declarations come first)")

    def _response_of(self, rid: str) -> etree._Element | None:
        declared = self.variables.get(rid)
        return declared.element if declared and declared.category == "response" else None

    def _check_interactions(self) -> None:
        for el, local, rid in self.interactions:
            decl = self._response_of(rid)
            if decl is None:
                continue
            produces = V.INTERACTIONS[local]
            card, base = decl.get("cardinality"), decl.get("base-type")
            where = f"<{local}> on line {el.sourceline}"
            if produces.cardinalities is not None and card in V.CARDINALITIES:
                if card not in produces.cardinalities:
                    self.add(decl, "qti.response.cardinality",
                             f"{rid} is declared {card}, but {where} produces "
                             f"{_or(produces.cardinalities)} values")
                elif card == "single" and produces.max_choices is not None:
                    attr, default = produces.max_choices
                    raw = (el.get(attr) or str(default)).strip()
                    if raw.isdigit() and int(raw) != 1:
                        bound = "any number of" if raw == "0" else f"up to {raw}"
                        self.add(decl, "qti.response.cardinality",
                                 f"{rid} is declared single, but {where} has {attr}={raw}: "
                                 f"the candidate may give {bound} values (declare it multiple)")
            if produces.base_types is not None and base in V.BASE_TYPES \
                    and base not in produces.base_types:
                self.add(decl, "qti.response.base-type",
                         f"{rid} has base-type {base}, but {where} produces "
                         f"{_or(produces.base_types)} values")

    def _choices_for(self, rid: str) -> set[str] | None:
        """The choices a response may name, or None when any interaction bound to it has none."""
        found: set[str] | None = None
        for el, local, bound in self.interactions:
            if bound != rid:
                continue
            if not V.INTERACTIONS[local].choices:
                return None
            found = (found or set()) | self.choices.get(el, set())
        return found

    def _check_templates(self) -> None:
        for el in self.templates:
            name = V.template_name(el.get("template") or el.get("template-location") or "")
            if name not in V.STANDARD_TEMPLATES:
                continue
            response = self._response_of("RESPONSE")
            if response is None:
                self.add(el, "qti.template.response",
                         f"the {name} template reads the response RESPONSE, which is not declared")
            elif name == "map_response" and self._child(response, "qti-mapping") is None:
                self.add(el, "qti.template.response",
                         "the map_response template maps RESPONSE through its qti-mapping, which it lacks")
            elif name == "map_response_point" and (
                    response.get("base-type") != "point" or self._child(response, "qti-area-mapping") is None):
                self.add(el, "qti.template.response",
                         "the map_response_point template needs RESPONSE to be a point response "
                         "with a qti-area-mapping")
            score = self.variables.get("SCORE")
            if score is None or score.category != "outcome":
                self.add(el, "qti.template.score",
                         f"the {name} template sets the outcome SCORE, which is not declared "
                         f'(<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>)')
            elif score.element.get("cardinality") != "single" or \
                    score.element.get("base-type") not in ("float", "integer"):
                self.add(el, "qti.template.score",
                         f"the {name} template sets SCORE to a number, so SCORE must be single float "
                         f"(declared {score.element.get('cardinality')} {score.element.get('base-type')})")

    def _check_map_uses(self) -> None:
        for el, local in self.map_uses:
            name = (el.get("identifier") or "").strip()
            decl = self._response_of(name)
            if decl is None:
                continue
            need = "qti-area-mapping" if local == "qti-map-response-point" else "qti-mapping"
            if self._child(decl, need) is None:
                self.add(el, "qti.processing.mapping",
                         f"<{local}> maps {name}, but its declaration has no <{need}>")

    def _check_test(self) -> None:
        if self.kind == "test":
            if not self.parts:
                self.add(self.root, "qti.test.structure", "the test has no qti-test-part")
            for part in self.parts:
                if self._child(part, "qti-assessment-section") is None and \
                        self._child(part, "qti-assessment-section-ref") is None:
                    self.add(part, "qti.test.structure",
                             f"test part {part.get('identifier')!r} has no qti-assessment-section")
        if self.known_items is not None:
            for ref in self.refs_to_items:
                names = _item_names(ref.get("identifier") or "", ref.get("href") or "")
                if not any(self.known_items(n) for n in names):
                    self.add(ref, "qti.test.item-ref-unresolved",
                             f"item reference {ref.get('identifier')!r} (href {ref.get('href')!r}) "
                             f"names no known item")
        for rule in self.branches:
            target = (rule.get("target") or "").strip()
            if target and target not in _EXITS and target not in self.structure_ids:
                self.add(rule, "qti.identifier.undeclared",
                         f"branch rule target {target!r} is no test part, section or item reference "
                         f"of this test (nor EXIT_TEST, EXIT_TESTPART, EXIT_SECTION)")
        for el in self.dotted:
            name = (el.get("identifier") or "").strip()
            ref = name.split(".", 1)[0]
            if ref not in self.structure_ids:
                self.add(el, "qti.identifier.undeclared",
                         f"<qti-variable> names {name!r}, but {ref!r} is no item reference of this test")

    def _child(self, el: etree._Element, local: str) -> etree._Element | None:
        return next(el.iterchildren(self.prefix + local), None)


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _local(el: etree._Element) -> str:
    return xmlsafe.local_name(el)


def _path(el: etree._Element) -> str:
    """/qti-assessment-item/qti-item-body/qti-choice-interaction[2]: a position only when needed."""
    steps = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        step = _local(node)
        if parent is not None:
            same = list(parent.iterchildren(node.tag))
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


def _namespace_message(ns: str) -> str:
    if not ns:
        return f'the root element has no namespace; QTI 3.0 elements are in {V.QTI_NS} (add xmlns="{V.QTI_NS}")'
    if "imsqti_v2" in ns:
        return f"{ns} is a QTI 2.x namespace; this checks QTI 3.0 ({V.QTI_NS})"
    return f"the root element's namespace {ns} is not the QTI 3.0 namespace {V.QTI_NS}"


def _builtin(name: str, categories: frozenset[str]) -> bool:
    return ("response" in categories and name in V.BUILTIN_RESPONSES) or \
        ("outcome" in categories and name in V.BUILTIN_OUTCOMES)


def _item_names(identifier: str, href: str) -> list[str]:
    base = href.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".xml"):
        base = base[:-4]
    return [n for n in dict.fromkeys((identifier.strip(), base)) if n]


def _kinds(categories: Iterable[str]) -> str:
    cats = sorted(categories)
    return "variable" if set(cats) == set(V.VARIABLES) else " or ".join(cats)


def _or(values: Iterable[str]) -> str:
    vals = sorted(values)
    return vals[0] if len(vals) == 1 else ", ".join(vals[:-1]) + " or " + vals[-1]


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _root_of(kind: str) -> str:
    return next(root for root, k in V.ROOTS.items() if k == kind)


__all__ = ["CheckResult", "Problem", "RULES", "check_document"]
