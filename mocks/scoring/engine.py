"""Compile a `qti-assessment-item` once into a `ScoringItem`, then score responses against it.

What an item's response processing is:
* `qti-response-processing` with a `template` (see templates.py) and/or rules: the template runs
  first, then the rules, so an item that names match_correct and adds its own FEEDBACK rules (as
  Timeback's examples do) gets both: SCORE from the template, FEEDBACK from its rules;
* no `qti-response-processing`: the template Timeback defaults to (templates.implied_template),
  or none, and then the item is not scorable;
* an empty `qti-response-processing`, or an item whose every response belongs to an interaction
  that is never auto-scored (extended text, upload, drawing): not scorable either, even when its
  rules would set SCORE (Timeback grades essays with AI; the sandbox stores them ungraded);
* a template whose correct response / mapping the item lacks, next to rules of its own: ignored,
  the rules score (Timeback's extended-text example names map_response without a mapping). Alone,
  such a template is ItemNotScorable for the map templates (match_correct then scores 0).

A not-scorable item still checks the response against its declarations; `process` then answers
score 0, `scored=False` and the feedback identifier "pending" (the response is stored for a human
or AI grader, which the sandbox does not have).

Correctness, which picks "correct" / "incorrect" when the item sets no FEEDBACK outcome: correct
when score >= max_score (within 1e-9, for float sums) and max_score > 0; when max_score is
unknown (custom processing without a MAXSCORE outcome), correct when score > 0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from lxml import etree

from tbconform.mocks.scoring.declarations import Declaration, read_declarations
from tbconform.mocks.scoring.errors import ItemNotScorable, ResponseMisfit
from tbconform.mocks.scoring.names import attr, children, tag, where
from tbconform.mocks.scoring.rules import Rule, compile_rules, run
from tbconform.mocks.scoring.templates import (TEMPLATES, best_score, implied_template, targets,
                                               template_name, template_rule, usable)
from tbconform.mocks.scoring.values import numeric, to_json, to_wire, wire_value

NOT_AUTO_SCORED = frozenset({"qti-extended-text-interaction", "qti-upload-interaction",
                             "qti-drawing-interaction"})
FEEDBACK_ELEMENTS = ("qti-modal-feedback", "qti-feedback-block", "qti-feedback-inline")  # priority
PENDING = "pending"
PENDING_TEXT = "Response stored; it is not scored automatically"
_SPACE = re.compile(r"\s+")
WireResponse = str | list[str] | None


@dataclass(slots=True)
class Outcome:
    """The result of processing one set of responses."""

    score: float
    outcomes: dict[str, Any]
    feedback_identifier: str
    feedback_value: str
    scored: bool = True

    @property
    def feedback(self) -> dict[str, str]:
        """Timeback's `feedback` object: {identifier, value}."""
        return {"identifier": self.feedback_identifier, "value": self.feedback_value}


@dataclass
class ScoringItem:
    """A compiled item: declarations, the response-processing closure list and feedback texts."""

    identifier: str
    response_ids: list[str]
    interactions: dict[str, str]
    max_score: float | None
    scorable: bool
    template: str | None = None
    _declarations: dict[str, Declaration] = field(default_factory=dict, repr=False)
    _rules: list[Rule] = field(default_factory=list, repr=False)
    _initial: dict[str, Any] = field(default_factory=dict, repr=False)
    _outcome_types: list[tuple[str, str | None]] = field(default_factory=list, repr=False)
    _feedback: dict[str, str] = field(default_factory=dict, repr=False)
    _folded_feedback: dict[str, str] = field(default_factory=dict, repr=False)

    def responses_from_wire(self, response: WireResponse) -> dict[str, WireResponse]:
        """The `response` of a process-response body bound to declarations: all of it to the
        first declared response; for an item of several single-cardinality responses, a list with
        one member per declaration goes to them in document order."""
        ids = self.response_ids
        if not ids:
            return {}
        if (len(ids) > 1 and isinstance(response, list) and len(response) == len(ids)
                and all(self._declarations[i].cardinality == "single" for i in ids)):
            return dict(zip(ids, response))
        return {ids[0]: response}

    def declaration(self, identifier: str) -> Declaration:
        """The declaration of a response or outcome variable (KeyError when undeclared)."""
        return self._declarations[identifier]

    def correct_response(self, identifier: str | None = None) -> WireResponse:
        """The correct response of `identifier` (default: the first response) in wire form, for
        callers that need a known-correct answer; None when the item declares none."""
        ids = self.response_ids
        name = identifier or (ids[0] if ids else "")
        declaration = self._declarations.get(name)
        return None if declaration is None else to_wire(declaration.correct)

    def process(self, responses: Mapping[str, WireResponse]) -> Outcome:
        """Score `responses` (identifier -> wire form; a missing one is empty). ResponseMisfit when
        one does not fit its declaration; ItemNotScorable when processing hits a type error."""
        env = dict(self._initial)
        declarations = self._declarations
        for identifier, raw in responses.items():
            declaration = declarations.get(identifier)
            if declaration is None or declaration.kind != "response" or declaration.builtin:
                known = ", ".join(self.response_ids) or "none"
                raise ResponseMisfit(f"item {self.identifier!r} declares no response {identifier!r} "
                                     f"(declared: {known})")
            env[identifier] = wire_value(identifier, declaration.cardinality,
                                         declaration.base_type or "", raw, declaration.default)
        if not self.scorable:
            return Outcome(0.0, self._outcomes(env), PENDING, PENDING_TEXT, False)
        try:
            run(self._rules, env)
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            raise ItemNotScorable(f"item {self.identifier!r}: response processing failed: {exc}") from None
        return self._result(env)

    def _result(self, env: dict[str, Any]) -> Outcome:
        score = env.get("SCORE")
        score = float(score) if numeric(score) else 0.0
        best = self.max_score
        correct = score >= best - 1e-9 and best > 0 if best is not None else score > 0
        chosen = env.get("FEEDBACK")
        if isinstance(chosen, tuple) and chosen:
            chosen = chosen[0]
        if chosen is not None and not isinstance(chosen, tuple):
            identifier = str(chosen)
            text = self._feedback.get(identifier) or ("Correct" if correct else "Incorrect")
        else:
            identifier = "correct" if correct else "incorrect"
            text = self._folded_feedback.get(identifier) or ("Correct" if correct else "Incorrect")
        return Outcome(score, self._outcomes(env), identifier, text, True)

    def _outcomes(self, env: dict[str, Any]) -> dict[str, Any]:
        return {name: to_json(env.get(name), base_type) for name, base_type in self._outcome_types}


def compile_item(root: etree._Element) -> ScoringItem:
    """Parse an item (the root from `tbconform.specs.xmlsafe.parse`) once; ItemNotScorable when
    its declarations or response processing are broken or unsupported."""
    try:
        return _compile(root)
    except RecursionError:  # xmlsafe caps depth at 256; a tree built elsewhere may not be
        raise ItemNotScorable("the response processing is nested too deeply") from None


def _compile(root: etree._Element) -> ScoringItem:
    if tag(root) != "qti-assessment-item":
        raise ItemNotScorable(f"the document is a <{tag(root)}>, not a qti-assessment-item")
    interactions = {}
    for element in root.iter(etree.Element):
        name = tag(element)
        identifier = attr(element, "response-identifier")
        if name.endswith("-interaction") and identifier:
            interactions.setdefault(identifier.strip(), name)
    declarations = read_declarations(root, interactions)
    for name, base_type, default in (("numAttempts", "integer", 1), ("duration", "float", 0.0)):
        if name not in declarations:  # built-in response variables the spec gives every item
            declarations[name] = Declaration(name, "response", "single", base_type, default,
                                             builtin=True)
    responses = [d for d in declarations.values() if d.kind == "response" and not d.builtin]
    processing = next((el for el in children(root) if tag(el) == "qti-response-processing"), None)
    template, rules_xml = _read_processing(processing, responses)
    template_targets = targets(declarations) if template else []
    if not template_targets:
        template = None  # a template over no response at all (an item of text only) scores nothing
    scorable = bool(template or rules_xml)
    if responses and all(interactions.get(d.identifier) in NOT_AUTO_SCORED for d in responses):
        scorable = False  # essays and uploads: stored for a grader, whatever the processing says
    if template and rules_xml and not usable(template, template_targets):
        template = None  # a template the item cannot feed, beside its own rules: the rules score
    if scorable and "SCORE" not in declarations:
        declarations["SCORE"] = Declaration("SCORE", "outcome", "single", "float", 0.0)
    rules: list[Rule] = []
    if scorable and template:
        rules.append(template_rule(template, template_targets))
    if scorable and rules_xml:
        rules.extend(compile_rules(rules_xml, declarations))
    item = ScoringItem(
        identifier=attr(root, "identifier") or "",
        response_ids=[d.identifier for d in responses],
        interactions=interactions,
        max_score=_max_score(declarations, template, template_targets) if scorable else None,
        scorable=scorable, template=template, _declarations=declarations, _rules=rules,
        _initial={d.identifier: d.default for d in declarations.values()},
        _outcome_types=[(d.identifier, d.base_type) for d in declarations.values() if d.kind == "outcome"])
    item._feedback, item._folded_feedback = _feedback_texts(root)
    return item


def _read_processing(processing: etree._Element | None,
                     responses: list[Declaration]) -> tuple[str | None, list[etree._Element]]:
    if processing is None:
        return implied_template(responses), []
    reference = attr(processing, "template")
    template = None
    rules = children(processing)
    if reference and reference.strip():
        template = template_name(reference)
        if template is None and not rules:
            raise ItemNotScorable(f"{where(processing)}: unknown template {reference!r} (supported: "
                                  f"{', '.join(TEMPLATES)})")
    return template, rules


def _max_score(declarations: dict[str, Declaration], template: str | None,
               template_targets: list[Declaration]) -> float | None:
    """MAXSCORE's default when the item declares one; else what the template can give at most
    (templates.best_score); else unknown (None)."""
    declared = declarations.get("MAXSCORE")
    if declared is not None and declared.kind == "outcome" and numeric(declared.default):
        return float(declared.default)
    return best_score(template, template_targets) if template else None


def _feedback_texts(root: etree._Element) -> tuple[dict[str, str], dict[str, str]]:
    """Feedback text by FEEDBACK value: modal feedback first, then block, then inline ones that
    show when FEEDBACK has that identifier; and the same keyed case-folded (for the default
    correct/incorrect identifiers matching an item's CORRECT/INCORRECT feedback)."""
    texts: dict[str, str] = {}
    for kind in FEEDBACK_ELEMENTS:
        for element in root.iter(etree.Element):
            if tag(element) != kind or (attr(element, "outcome-identifier") or "").strip() != "FEEDBACK":
                continue
            if (attr(element, "show-hide") or "show").strip() != "show":
                continue
            identifier = (attr(element, "identifier") or "").strip()
            text = _SPACE.sub(" ", "".join(element.itertext())).strip()
            if identifier and text:
                texts.setdefault(identifier, text)
    folded: dict[str, str] = {}
    for identifier, text in texts.items():
        folded.setdefault(identifier.casefold(), text)
    return texts, folded
