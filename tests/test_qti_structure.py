"""QTI 3.0 structural checks (specs/qti/structure.py): no false alarm on valid documents of every
interaction type; for each rule, a minimal break of a valid document raises exactly that rule on
the right line. Needs no reference material."""
from __future__ import annotations

import pytest

from tbconform.specs.qti.structure import RULES, check_document
from tests.qti_samples import (CHOICE, CUSTOM, MATCH, MULTIPLE_CHOICE, NS, ORDER, SELECT_POINT,
                               SLIDER, TEST, TEXT_ENTRY, VALID_DOCUMENTS, line_of)


@pytest.mark.parametrize("name", sorted(VALID_DOCUMENTS))
def test_valid_documents_raise_no_problem(name):
    result = check_document(VALID_DOCUMENTS[name])
    assert result.problems == [], [(p.line, p.rule, p.message) for p in result.problems]
    assert result.kind == {"test": "test", "stimulus": "stimulus"}.get(name, "item")
    assert result.root is not None


def test_bytes_and_str_agree_and_known_items_resolve():
    assert check_document(CHOICE.encode()).problems == check_document(CHOICE).problems == []
    known = {"choice", "multi", "text"}
    assert check_document(TEST, kind="test", known_items=known.__contains__).problems == []


def _swap(doc: str, old: str, new: str, count: int = 1) -> str:
    assert old in doc, old
    return doc.replace(old, new, count)


_SCORE_DECL = '<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>'

# (case id, broken document, rule, text on the problem's line in the broken document, nth occurrence)
CASES = [
    ("namespace-missing", _swap(CHOICE, f' xmlns="{NS}"', ""), "qti.namespace", "<qti-assessment-item", 1),
    ("namespace-qti2", _swap(CHOICE, NS, "http://www.imsglobal.org/xsd/imsqti_v2p2"), "qti.namespace",
     "<qti-assessment-item", 1),
    ("root-unknown", f'<?xml version="1.0"?>\n<qti-item xmlns="{NS}" identifier="x"/>', "qti.root", "<qti-item", 1),
    ("identifier-missing", _swap(CHOICE, '<qti-simple-choice identifier="C">', "<qti-simple-choice>"),
     "qti.identifier.missing", "<qti-simple-choice>", 1),
    ("root-identifier-missing", _swap(CHOICE, ' identifier="choice"', ""), "qti.identifier.missing",
     "<qti-assessment-item", 1),
    ("identifier-syntax", _swap(CHOICE, 'identifier="C">', 'identifier="C 3">'), "qti.identifier.syntax",
     'identifier="C 3"', 1),
    ("identifier-duplicate", _swap(CHOICE, 'identifier="C">', 'identifier="A">'), "qti.identifier.duplicate",
     'identifier="A">', 2),
    ("identifier-duplicate-declaration", _swap(CHOICE, _SCORE_DECL, _SCORE_DECL + "\n  " + _SCORE_DECL),
     "qti.identifier.duplicate", _SCORE_DECL, 2),
    ("identifier-undeclared", _swap(SLIDER, '<qti-correct identifier="RESPONSE"/>',
                                    '<qti-correct identifier="RESPONSE2"/>'),
     "qti.identifier.undeclared", "RESPONSE2", 1),
    ("identifier-wrong-category", _swap(SLIDER, '<qti-correct identifier="RESPONSE"/>',
                                        '<qti-correct identifier="SCORE"/>'),
     "qti.identifier.undeclared", '<qti-correct identifier="SCORE"/>', 1),
    ("identifier-before-use", _swap(_swap(CHOICE, "<qti-prompt>", '<qti-prompt><qti-printed-variable identifier="LATE"/>'),
                                    "</qti-assessment-item>",
                                    '  <qti-outcome-declaration identifier="LATE" cardinality="single" '
                                    'base-type="integer"/>\n</qti-assessment-item>'),
     "qti.identifier.before-use", "qti-printed-variable", 1),
    ("declaration-cardinality", _swap(CHOICE, 'cardinality="single" base-type="identifier"',
                                      'cardinality="singel" base-type="identifier"'),
     "qti.declaration.attributes", 'cardinality="singel"', 1),
    ("declaration-base-type-missing", _swap(MULTIPLE_CHOICE, 'cardinality="multiple" base-type="identifier"',
                                            'cardinality="multiple"'),
     "qti.declaration.attributes", '<qti-response-declaration', 1),
    ("default-value", _swap(CUSTOM, "<qti-value>2</qti-value>", "<qti-value>two</qti-value>"),
     "qti.declaration.default-value", "<qti-value>two", 1),
    ("interaction-no-response-identifier", _swap(CHOICE, ' response-identifier="RESPONSE"', ""),
     "qti.interaction.response-identifier", "<qti-choice-interaction", 1),
    ("interaction-response-undeclared", _swap(CHOICE, 'response-identifier="RESPONSE"',
                                              'response-identifier="RESPONSE2"'),
     "qti.interaction.response-undeclared", "<qti-choice-interaction", 1),
    ("interaction-response-is-outcome", _swap(CHOICE, 'response-identifier="RESPONSE"',
                                              'response-identifier="SCORE"'),
     "qti.interaction.response-undeclared", "<qti-choice-interaction", 1),
    ("interaction-attribute", _swap(MULTIPLE_CHOICE, 'max-choices="0"', 'max-choices="2" min-choices="3"'),
     "qti.interaction.attribute", "<qti-choice-interaction", 1),
    ("cardinality-max-choices", _swap(CHOICE, 'max-choices="1"', 'max-choices="2"'), "qti.response.cardinality",
     "<qti-response-declaration", 1),
    ("cardinality-order", _swap(ORDER, 'cardinality="ordered"', 'cardinality="multiple"'),
     "qti.response.cardinality", "<qti-response-declaration", 1),
    ("cardinality-text-entry", _swap(_swap(TEXT_ENTRY, '"YEAR" cardinality="single"', '"YEAR" cardinality="multiple"'),
                                     "", ""),
     "qti.response.cardinality", '"YEAR"', 1),
    ("base-type-slider", _swap(SLIDER, 'cardinality="single" base-type="float">',
                               'cardinality="single" base-type="string">'),
     "qti.response.base-type", "<qti-response-declaration", 1),
    ("base-type-match", _swap(MATCH, 'base-type="directedPair"', 'base-type="pair"'), "qti.response.base-type",
     "<qti-response-declaration", 1),
    ("correct-value", _swap(TEXT_ENTRY, "<qti-value>1889</qti-value>", "<qti-value>1889.5</qti-value>"),
     "qti.response.correct-value", "1889.5", 1),
    ("correct-value-point", _swap(SELECT_POINT, "<qti-value>102 113</qti-value>", "<qti-value>102</qti-value>"),
     "qti.response.correct-value", "<qti-value>102<", 1),
    ("correct-count", _swap(CHOICE, "<qti-value>B</qti-value>", "<qti-value>B</qti-value><qti-value>A</qti-value>"),
     "qti.response.correct-count", "<qti-correct-response>", 1),
    ("choice-unknown-correct", _swap(CHOICE, "<qti-value>B</qti-value>", "<qti-value>D</qti-value>"),
     "qti.response.choice-unknown", "<qti-value>D", 1),
    ("choice-unknown-mapping", _swap(MATCH, 'map-key="IT ROM"', 'map-key="IT BER"'),
     "qti.response.choice-unknown", "IT BER", 1),
    ("mapping-key-shape", _swap(MATCH, 'map-key="IT ROM"', 'map-key="IT"'), "qti.response.mapping-key",
     'map-key="IT"', 1),
    ("mapping-key-repeated", _swap(MULTIPLE_CHOICE, 'map-key="C"', 'map-key="A"'), "qti.response.mapping-key",
     'map-key="A"', 2),
    ("mapping-key-repeated-case-folded", _swap(TEXT_ENTRY, 'map-key="Lutetia"', 'map-key="PARIS"'),
     "qti.response.mapping-key", 'map-key="PARIS"', 1),
    ("mapping-value", _swap(MULTIPLE_CHOICE, 'mapped-value="-1"', 'mapped-value="minus one"'),
     "qti.response.mapping-value", "minus one", 1),
    ("mapping-bounds", _swap(MULTIPLE_CHOICE, 'lower-bound="0" upper-bound="2"', 'lower-bound="3" upper-bound="2"'),
     "qti.response.mapping-value", "<qti-mapping", 1),
    ("area-mapping-coords", _swap(SELECT_POINT, 'coords="102,113,16"', 'coords="102,113"'),
     "qti.response.area-mapping", 'coords="102,113"', 1),
    ("area-mapping-shape", _swap(SELECT_POINT, 'shape="poly"', 'shape="star"'), "qti.response.area-mapping",
     'shape="star"', 1),
    ("outcome-undeclared", _swap(CUSTOM, '<qti-set-outcome-value identifier="FEEDBACK">',
                                 '<qti-set-outcome-value identifier="FEEDBAK">'),
     "qti.outcome.undeclared", "FEEDBAK", 1),
    ("outcome-set-on-response", _swap(CUSTOM, '<qti-set-outcome-value identifier="FEEDBACK">',
                                      '<qti-set-outcome-value identifier="RESPONSE">'),
     "qti.outcome.undeclared", '<qti-set-outcome-value identifier="RESPONSE">', 1),
    ("processing-mapping", _swap(CHOICE, f'<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>',
                                 '<qti-response-processing>\n    <qti-set-outcome-value identifier="SCORE">'
                                 '<qti-map-response identifier="RESPONSE"/></qti-set-outcome-value>\n'
                                 '  </qti-response-processing>'),
     "qti.processing.mapping", "<qti-map-response", 1),
    ("template-response-no-mapping", _swap(CHOICE, "match_correct", "map_response"), "qti.template.response",
     "<qti-response-processing", 1),
    ("template-response-undeclared", _swap(_swap(CHOICE, 'identifier="RESPONSE"', 'identifier="ANSWER"'),
                                           'response-identifier="RESPONSE"', 'response-identifier="ANSWER"'),
     "qti.template.response", "<qti-response-processing", 1),
    ("template-score-missing", _swap(CHOICE, _SCORE_DECL, ""), "qti.template.score", "<qti-response-processing", 1),
    ("template-score-type", _swap(CHOICE, 'identifier="SCORE" cardinality="single" base-type="float"',
                                  'identifier="SCORE" cardinality="single" base-type="string"'),
     "qti.template.score", "<qti-response-processing", 1),
    ("template-short-name", _swap(CHOICE, "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct",
                                  "map_response_point"), "qti.template.response", "<qti-response-processing", 1),
    ("test-structure", _swap(TEST, '<qti-test-part identifier="part1" navigation-mode="linear" submission-mode="individual">',
                             '<qti-test-part identifier="part0" navigation-mode="linear" submission-mode="individual"/>\n'
                             '  <qti-test-part identifier="part1" navigation-mode="linear" submission-mode="individual">'),
     "qti.test.structure", 'identifier="part0"', 1),
    ("test-item-ref-no-href", _swap(TEST, ' href="items/choice.xml"', ""), "qti.test.item-ref",
     '<qti-assessment-item-ref identifier="choice"', 1),
    ("test-duplicate-ref", _swap(TEST, 'identifier="text" href', 'identifier="choice" href'),
     "qti.identifier.duplicate", 'identifier="choice" href="https:', 1),
    ("test-duplicate-section", _swap(TEST, 'identifier="sec2a"', 'identifier="sec1"'), "qti.identifier.duplicate",
     'identifier="sec1"', 2),
    ("test-branch-target", _swap(TEST, 'target="sec2"', 'target="sec9"'), "qti.identifier.undeclared", "sec9", 1),
    ("test-variable-ref", _swap(TEST, '"multi.SCORE"', '"nope.SCORE"'), "qti.identifier.undeclared", "nope.SCORE", 1),
    ("test-outcome-undeclared", _swap(TEST, '<qti-set-outcome-value identifier="TOTAL">',
                                      '<qti-set-outcome-value identifier="GRAND">'),
     "qti.outcome.undeclared", "GRAND", 1),
    ("not-well-formed", _swap(CHOICE, "</qti-prompt>", "</qti-promt>"), "qti.xml.well-formed", "</qti-promt>", 1),
]


@pytest.mark.parametrize("case, doc, rule, needle, nth", CASES, ids=[c[0] for c in CASES])
def test_each_break_raises_its_rule_on_its_line(case, doc, rule, needle, nth):
    assert rule in RULES
    problems = check_document(doc).problems
    assert {p.rule for p in problems} == {rule}, [(p.line, p.rule, p.message) for p in problems]
    assert line_of(doc, needle, nth) in {p.line for p in problems}, [(p.line, p.message) for p in problems]
    assert all(p.message and p.path.startswith("/") for p in problems)


def test_every_rule_but_xml_safety_and_xsd_is_exercised_here():
    covered = {c[2] for c in CASES} | {"qti.root"}
    elsewhere = {r for r in RULES if r.startswith("qti.xml.")} | {"qti.xsd", "qti.test.item-ref-unresolved"}
    assert set(RULES) - covered - elsewhere == set()


def test_kind_asked_for_must_match_the_root():
    problems = check_document(TEST, kind="item").problems
    assert [(p.rule, p.line) for p in problems] == [("qti.root", line_of(TEST, "<qti-assessment-test"))]
    assert "expected an item" in problems[0].message
    assert check_document(CHOICE, kind="item").problems == []
    with pytest.raises(ValueError, match="kind must be one of"):
        check_document(CHOICE, kind="quiz")


def test_unresolved_item_refs_by_identifier_or_href_base_name():
    known = {"choice", "multi"}
    problems = check_document(TEST, known_items=known.__contains__).problems
    assert [(p.rule, p.line) for p in problems] == [
        ("qti.test.item-ref-unresolved", line_of(TEST, 'identifier="text"'))]
    renamed = _swap(TEST, '<qti-assessment-item-ref identifier="text"', '<qti-assessment-item-ref identifier="ref3"')
    assert check_document(renamed, known_items={"choice", "multi", "text"}.__contains__).problems == []


def test_problem_path_names_the_element_with_its_position():
    doc = _swap(TEXT_ENTRY, "<qti-value>1889</qti-value>", "<qti-value>nineteen</qti-value>")
    (problem,) = check_document(doc).problems
    assert problem.path == "/qti-assessment-item/qti-response-declaration[2]/qti-correct-response/qti-value"
    doc = _swap(TEXT_ENTRY, '"YEAR" cardinality="single"', '"YEAR" cardinality="ordered"')
    (problem,) = check_document(doc).problems
    assert problem.path == "/qti-assessment-item/qti-response-declaration[2]"


def test_messages_name_the_values_involved():
    doc = _swap(CHOICE, 'max-choices="1"', 'max-choices="3"')
    (problem,) = check_document(doc).problems
    assert "max-choices=3" in problem.message and "RESPONSE" in problem.message
    doc = _swap(CHOICE, "<qti-value>B</qti-value>", "<qti-value>D</qti-value>")
    (problem,) = check_document(doc).problems
    assert "'D'" in problem.message and "A, B, C" in problem.message


def test_a_thousand_items_are_checked_well_above_the_target_rate():
    import time

    docs = [d.encode() for d in VALID_DOCUMENTS.values()] * 63
    started = time.perf_counter()
    for doc in docs:
        check_document(doc)
    rate = len(docs) / (time.perf_counter() - started)
    assert rate > 300, f"{rate:.0f} documents/s"


def test_seeded_items_of_every_kind_raise_no_false_alarm():
    qti = pytest.importorskip("tbconform.fixtures.qti", reason="the QTI seed generator is not installed")
    import random

    rng = random.Random(11)
    for n, kind in enumerate(qti.KINDS * 4):
        subject = ("Math", "Reading", "Science")[n % 3]
        doc = qti.build_item(kind, f"seed-{n}", f"Seed {n}", rng, subject, 1 + n % 8)
        problems = check_document(doc, kind="item").problems
        assert problems == [], (kind, [(p.line, p.rule, p.message) for p in problems])


def test_mutilated_documents_never_raise():
    """Every attribute dropped in turn, and truncations: problems, never an exception."""
    import re

    for doc in VALID_DOCUMENTS.values():
        attributes = [m.span() for m in re.finditer(r' [a-z-]+="[^"]*"', doc)]
        variants = [doc[:a] + doc[b:] for a, b in attributes]
        variants += [doc[:cut] for cut in range(0, len(doc), max(1, len(doc) // 25))]
        variants += [doc.replace("qti-value", "qti-valu"), doc.replace('"', "'"), doc.replace(NS, "")]
        for variant in variants:
            result = check_document(variant)
            assert isinstance(result.problems, list)
            assert all(p.rule in RULES for p in result.problems)
