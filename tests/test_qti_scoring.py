"""The QTI response-processing engine per interaction type and per standard template: correct,
partially correct, wrong, empty and malformed responses, each against an outcome worked out by
hand from the item written here (tests/test_qti_scoring_kit.py builds the XML)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tbconform.mocks.scoring import ItemNotScorable, ResponseMisfit, compile_item, template_name
from tbconform.specs.xmlsafe import parse
from tests.test_qti_scoring_kit import (MAP, MAP_POINT, MATCH, areas, declare, item, mapping,
                                        outcome, score, xml)

# ---- choice ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def single_choice():
    return item(declare(correct=["B"]), template=MATCH)


@pytest.mark.parametrize("response,expected", [
    ("B", 1.0), (["B"], 1.0), (" B ", 1.0), ("A", 0.0), ("b", 0.0), ("Z", 0.0),
    (None, 0.0), ("", 0.0), ([], 0.0), ("   ", 0.0),
])
def test_single_choice_match_correct(single_choice, response, expected):
    assert score(single_choice, response) == expected


def test_single_choice_feedback_and_outcomes(single_choice):
    right, wrong = single_choice.process({"RESPONSE": "B"}), single_choice.process({"RESPONSE": "A"})
    assert (right.feedback_identifier, right.feedback_value, right.scored) == ("correct", "Correct", True)
    assert (wrong.feedback_identifier, wrong.feedback_value) == ("incorrect", "Incorrect")
    assert right.outcomes == {"SCORE": 1.0} and wrong.outcomes == {"SCORE": 0.0}
    assert right.feedback == {"identifier": "correct", "value": "Correct"}
    assert single_choice.max_score == 1.0 and single_choice.scorable
    assert single_choice.response_ids == ["RESPONSE"]
    assert single_choice.interactions == {"RESPONSE": "qti-choice-interaction"}


@pytest.mark.parametrize("response,needle", [
    (["A", "B"], "got 2 values"), ("A B", "not an identifier"), ([1], "got a int"),
    ({"x": 1}, "got a dict"),
])
def test_single_choice_malformed(single_choice, response, needle):
    with pytest.raises(ResponseMisfit) as caught:
        single_choice.process({"RESPONSE": response})
    message = str(caught.value)
    assert "'RESPONSE'" in message and needle in message
    assert "single identifier" in message or "a string" in message


def test_unknown_response_identifier_is_a_misfit(single_choice):
    with pytest.raises(ResponseMisfit, match="declares no response 'OTHER'"):
        single_choice.process({"OTHER": "A"})


@pytest.fixture(scope="module")
def multiple_choice():
    return item(declare(cardinality="multiple", correct=["A", "C"]), template=MATCH)


@pytest.mark.parametrize("response,expected", [
    (["A", "C"], 1.0), (["C", "A"], 1.0),          # a bag: order does not matter
    (["A"], 0.0), (["A", "C", "B"], 0.0),         # partial and over-complete are wrong
    (["A", "C", "C"], 0.0),                       # duplicates count in a bag
    ("A", 0.0), (None, 0.0), ([], 0.0), (["", "A", "C"], 1.0),  # blanks are ignored
])
def test_multiple_choice_match_correct(multiple_choice, response, expected):
    assert score(multiple_choice, response) == expected


@pytest.fixture(scope="module")
def multiple_choice_mapped():
    table = mapping({"A": 1, "C": 1, "B": -1, "D": 0.5}, default=-0.25, lower=0, upper=2)
    return item(declare(cardinality="multiple", correct=["A", "C"], extra=table), template=MAP)


@pytest.mark.parametrize("response,expected", [
    (["A", "C"], 2.0),            # 1 + 1
    (["A"], 1.0),                 # partial
    (["A", "C", "D"], 2.0),       # 2.5 clamped by upper-bound 2
    (["A", "B"], 0.0),            # 1 - 1
    (["B"], 0.0),                 # -1 clamped by lower-bound 0
    (["A", "A"], 1.0),            # a repeated value maps once
    (["A", "E"], 0.75),           # unmapped E takes default -0.25
    (["D", "E", "F"], 0.0),       # 0.5 - 0.25 - 0.25
    (None, 0.0),                  # NULL: the template gives 0
])
def test_multiple_choice_map_response(multiple_choice_mapped, response, expected):
    assert score(multiple_choice_mapped, response) == pytest.approx(expected)


def test_map_response_max_score_and_correctness(multiple_choice_mapped):
    assert multiple_choice_mapped.max_score == 2.0  # 1 + 1 + 0.5 = 2.5, capped by upper-bound 2
    assert multiple_choice_mapped.process({"RESPONSE": ["A", "C"]}).feedback_identifier == "correct"
    assert multiple_choice_mapped.process({"RESPONSE": ["A"]}).feedback_identifier == "incorrect"


def test_single_map_response_max_is_the_best_entry():
    compiled = item(declare(extra=mapping({"A": 0.5, "B": 2, "C": -1})), template=MAP)
    assert compiled.max_score == 2.0
    assert [score(compiled, r) for r in ("A", "B", "C", "D")] == [0.5, 2.0, -1.0, 0.0]


# ---- text entry ------------------------------------------------------------------------------


@pytest.mark.parametrize("response,expected", [
    ("Paris", 1.0), ("paris", 0.0), ("Paris ", 0.0), ("London", 0.0), ("", 0.0), (None, 0.0)])
def test_text_entry_string_match_correct(response, expected):
    compiled = item(declare(base_type="string", correct=["Paris"]), template=MATCH,
                    interaction="qti-text-entry-interaction")
    assert score(compiled, response) == expected


@pytest.mark.parametrize("response,expected", [
    ("Paris", 1.0), ("PARIS", 1.0), ("paris", 1.0),      # case-insensitive entry
    ("Lyon", 0.5), ("lyon", 0.0),                         # case-sensitive entry, then default 0
    ("Marseille", 0.0), (None, 0.0)])
def test_text_entry_string_map_response_case(response, expected):
    table = mapping([("Paris", 1, False), ("Lyon", 0.5, True)])
    compiled = item(declare(base_type="string", correct=["Paris"], extra=table), template=MAP,
                    interaction="qti-text-entry-interaction")
    assert score(compiled, response) == expected


@pytest.mark.parametrize("response,expected", [
    ("3.5", 1.0), ("3.50", 1.0), ("+3.5", 1.0), ("35e-1", 1.0), (" 3.5 ", 1.0), ("3.51", 0.0),
    ("-3.5", 0.0), ("", 0.0)])
def test_text_entry_float(response, expected):
    compiled = item(declare(base_type="float", correct=["3.5"]), template=MATCH,
                    interaction="qti-text-entry-interaction")
    assert score(compiled, response) == expected


@pytest.mark.parametrize("response", ["abc", "3,5", "nan", "inf", "1 2", "0x10"])
def test_text_entry_float_malformed(response):
    compiled = item(declare(base_type="float", correct=["3.5"]), template=MATCH)
    with pytest.raises(ResponseMisfit, match=r"'RESPONSE' expects single float: .* is not a number"):
        compiled.process({"RESPONSE": response})


@pytest.mark.parametrize("response,expected", [("12", 1.0), ("12.0", 1.0), ("+12", 1.0), ("13", 0.0)])
def test_text_entry_integer(response, expected):
    compiled = item(declare(base_type="integer", correct=["12"]), template=MATCH)
    assert score(compiled, response) == expected


@pytest.mark.parametrize("response", ["12.5", "twelve", "1e400x"])
def test_text_entry_integer_malformed(response):
    compiled = item(declare(base_type="integer", correct=["12"]), template=MATCH)
    with pytest.raises(ResponseMisfit, match="not an integer"):
        compiled.process({"RESPONSE": response})


def test_several_text_entries_bind_from_a_list_and_score_together():
    compiled = item(declare("RESPONSE1", base_type="string", correct=["a"]),
                    declare("RESPONSE2", base_type="integer", correct=["2"]),
                    template=MATCH, interaction="qti-text-entry-interaction")
    bound = compiled.responses_from_wire(["a", "2"])
    assert bound == {"RESPONSE1": "a", "RESPONSE2": "2"}
    assert compiled.process(bound).score == 1.0
    assert compiled.process(compiled.responses_from_wire(["a", "3"])).score == 0.0
    assert compiled.process({"RESPONSE1": "a"}).score == 0.0  # the other one is empty


# ---- extended text ---------------------------------------------------------------------------


def test_extended_text_is_stored_not_scored():
    compiled = item(declare(base_type="string"), template=MATCH,
                    interaction="qti-extended-text-interaction")
    assert not compiled.scorable and compiled.max_score is None
    result = compiled.process({"RESPONSE": "An essay about my favourite book."})
    assert (result.score, result.scored, result.feedback_identifier) == (0.0, False, "pending")
    with pytest.raises(ResponseMisfit, match="got 2 values"):
        compiled.process({"RESPONSE": ["two", "essays"]})


# ---- order, match, associate, gap match -------------------------------------------------------


@pytest.mark.parametrize("response,expected", [
    (["A", "B", "C"], 1.0), (["B", "A", "C"], 0.0), (["A", "B"], 0.0), ("A", 0.0), ([], 0.0)])
def test_order_is_compared_in_order(response, expected):
    compiled = item(declare(cardinality="ordered", correct=["A", "B", "C"]), template=MATCH,
                    interaction="qti-order-interaction")
    assert score(compiled, response) == expected


@pytest.fixture(scope="module")
def match_item():
    table = mapping({"C1 T1": 0.5, "C2 T2": 0.5, "C1 T2": -0.5}, lower=0)
    return item(declare(cardinality="multiple", base_type="directedPair", correct=["C1 T1", "C2 T2"],
                        extra=table), template=MAP, interaction="qti-match-interaction")


@pytest.mark.parametrize("response,expected", [
    (["C1 T1", "C2 T2"], 1.0), (["C2 T2", "C1 T1"], 1.0),  # the pairs form a bag
    (["C1 T1"], 0.5),                                       # partial
    (["T1 C1", "T2 C2"], 0.0),                              # directed pairs do not turn round
    (["C1 T2", "C2 T2"], 0.0),                              # -0.5 + 0.5
    (["C1 T2"], 0.0),                                       # -0.5 clamped to lower-bound 0
    (None, 0.0)])
def test_match_interaction_directed_pairs(match_item, response, expected):
    assert score(match_item, response) == expected


@pytest.mark.parametrize("response", [["C1"], ["C1 T1 X"], "C1", ["C1 T1", "oops"]])
def test_match_interaction_malformed_pairs(match_item, response):
    with pytest.raises(ResponseMisfit, match=r"multiple directedPair: .* is not a directedPair"):
        match_item.process({"RESPONSE": response})


@pytest.mark.parametrize("response,expected", [
    (["A B", "C D"], 1.0), (["B A", "D C"], 1.0), (["D C", "A B"], 1.0), (["A C", "B D"], 0.0),
    (["A B"], 0.0)])
def test_associate_pairs_ignore_order(response, expected):
    compiled = item(declare(cardinality="multiple", base_type="pair", correct=["A B", "C D"]),
                    template=MATCH, interaction="qti-associate-interaction")
    assert score(compiled, response) == expected


def test_associate_pair_mapping_ignores_order():
    table = mapping({"A B": 1, "C D": 2})
    compiled = item(declare(cardinality="multiple", base_type="pair", extra=table), template=MAP,
                    interaction="qti-associate-interaction")
    assert score(compiled, ["B A"]) == 1.0 and score(compiled, ["D C", "A B"]) == 3.0
    assert compiled.max_score == 3.0


@pytest.fixture(scope="module")
def gap_item():
    correct = [f"W{i} G{i}" for i in range(1, 11)]
    table = mapping({pair: 1 for pair in correct}, lower=0, upper=10)
    return item(declare(cardinality="multiple", base_type="directedPair", correct=correct, extra=table),
                template=MAP, interaction="qti-gap-match-interaction")


@pytest.mark.parametrize("filled,expected", [(10, 10.0), (7, 7.0), (0, 0.0)])
def test_gap_match_ten_gaps(gap_item, filled, expected):
    response = [f"W{i} G{i}" for i in range(1, filled + 1)]
    response += [f"W{i} G{i % 10 + 1}" for i in range(filled + 1, 11)]  # the rest misplaced
    assert score(gap_item, response) == expected
    assert gap_item.max_score == 10.0


def test_gap_match_reversed_pair_is_wrong(gap_item):
    assert score(gap_item, ["G1 W1"]) == 0.0 and score(gap_item, ["W1 G1"]) == 1.0


# ---- inline choice, hotspot ------------------------------------------------------------------


@pytest.mark.parametrize("interaction", ["qti-inline-choice-interaction", "qti-hotspot-interaction"])
@pytest.mark.parametrize("response,expected", [("H2", 1.0), ("H1", 0.0), (None, 0.0)])
def test_inline_choice_and_hotspot(interaction, response, expected):
    compiled = item(declare(correct=["H2"]), template=MATCH, interaction=interaction)
    assert score(compiled, response) == expected
    assert compiled.interactions["RESPONSE"] == interaction


def test_hotspot_multiple_partial_mapping():
    table = mapping({"H1": 1, "H2": 1, "H3": -1}, lower=0)
    compiled = item(declare(cardinality="multiple", correct=["H1", "H2"], extra=table),
                    template=MAP, interaction="qti-hotspot-interaction")
    assert [score(compiled, r) for r in (["H1", "H2"], ["H2"], ["H1", "H3"], ["H3"])] == [2, 1, 0, 0]


# ---- select point (map_response_point) -------------------------------------------------------

AREAS = [("circle", "100,100,20", 1), ("rect", "0,0,10,10", 0.5),
         ("poly", "200,200,300,200,250,300", 2), ("ellipse", "400,100,50,20", 3)]


@pytest.fixture(scope="module")
def point_item():
    return item(declare(base_type="point", extra=areas(AREAS, default=-1, lower=-0.5)),
                template=MAP_POINT, interaction="qti-select-point-interaction")


@pytest.mark.parametrize("response,expected", [
    ("100 100", 1.0), ("120 100", 1.0), ("114 112", 1.0),  # centre, on the edge, inside (14²+12² <= 20²)
    ("115 115", -0.5),                                    # outside (15²+15² > 20²): default -1, bound -0.5
    ("0 0", 0.5), ("10 10", 0.5),                         # rect corners are inside
    ("250 250", 2.0), ("250 201", 2.0), ("200 300", -0.5),  # triangle inside / outside
    ("449 100", 3.0), ("400 119", 3.0), ("440 115", -0.5),  # ellipse
    (None, 0.0), ("", 0.0)])
def test_select_point_single(point_item, response, expected):
    assert score(point_item, response) == expected


@pytest.mark.parametrize("response", ["100,100", "a b", "1.5 2", "1 2 3"])
def test_select_point_malformed(point_item, response):
    with pytest.raises(ResponseMisfit, match="single point"):
        point_item.process({"RESPONSE": response})


def test_select_point_multiple_counts_each_area_once():
    compiled = item(declare(cardinality="multiple", base_type="point",
                            extra=areas(AREAS, default=-0.25, upper=5)),
                    template=MAP_POINT, interaction="qti-select-point-interaction")
    assert score(compiled, ["100 100", "101 101"]) == 1.0          # two points, one circle
    assert score(compiled, ["100 100", "5 5"]) == 1.5              # circle + rect
    assert score(compiled, ["100 100", "999 999"]) == 0.75         # circle + one miss
    assert score(compiled, ["100 100", "5 5", "250 250", "400 100"]) == 5.0  # 6.5 capped at 5
    assert compiled.max_score == 5.0


def test_select_point_default_shape():
    compiled = item(declare(base_type="point", extra=areas([("circle", "0,0,5", 2), ("default", "", 0.5)])),
                    template=MAP_POINT)
    assert score(compiled, "1 1") == 2.0 and score(compiled, "50 50") == 0.5


# ---- slider ----------------------------------------------------------------------------------


def test_slider_integer_with_default_value():
    compiled = item(declare(base_type="integer", correct=["50"], default=["50"]), template=MATCH,
                    interaction="qti-slider-interaction")
    assert score(compiled, "50") == 1.0 and score(compiled, "40") == 0.0
    assert score(compiled, None) == 1.0  # an empty response is the declaration's default, 50


# ---- templates and processing forms ----------------------------------------------------------


@pytest.mark.parametrize("reference,name", [
    ("match_correct", "match_correct"), (MATCH, "match_correct"), (MATCH + ".xml", "match_correct"),
    ("http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response.xml", "map_response"),
    ("http://www.imsglobal.org/question/qti_v2p2/rptemplates/map_response_point", "map_response_point"),
    (MAP_POINT, "map_response_point"), ("map_response", "map_response"),
    ("https://example.com/rptemplates/other.xml", None), ("match_correctly", None)])
def test_template_names(reference, name):
    assert template_name(reference) == name


@pytest.mark.parametrize("template", ["match_correct", MATCH + ".xml",
                                      "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"])
def test_template_references_score_alike(template):
    compiled = item(declare(correct=["B"]), template=template)
    assert (score(compiled, "B"), score(compiled, "A")) == (1.0, 0.0)


def test_unknown_template_is_not_scorable():
    with pytest.raises(ItemNotScorable, match="unknown template"):
        item(declare(correct=["B"]), template="https://example.com/mine.xml")


def test_map_template_without_mapping_is_not_scorable():
    with pytest.raises(ItemNotScorable, match="has no qti-mapping"):
        item(declare(correct=["B"]), template=MAP)


def test_no_processing_defaults_to_match_correct():
    compiled = item(declare(correct=["B"]))
    assert compiled.scorable and compiled.template == "match_correct"
    assert (score(compiled, "B"), score(compiled, "A")) == (1.0, 0.0)


def test_no_processing_with_only_a_mapping_defaults_to_map_response():
    compiled = item(declare(cardinality="multiple", extra=mapping({"A": 1, "B": 1})))
    assert compiled.template == "map_response" and score(compiled, ["A", "B"]) == 2.0


def test_no_processing_and_nothing_to_match_is_not_scorable():
    compiled = item(declare())
    assert not compiled.scorable
    assert compiled.process({"RESPONSE": "A"}).feedback_identifier == "pending"


def test_empty_processing_is_not_scorable():
    assert not item(declare(correct=["A"]), rp="").scorable


def test_maxscore_outcome_sets_max_score():
    compiled = item(declare(extra=mapping({"A": 1, "B": 3})), template=MAP,
                    outcomes=[outcome(), outcome("MAXSCORE", default="4")])
    assert compiled.max_score == 4.0
    assert compiled.process({"RESPONSE": "B"}).feedback_identifier == "incorrect"  # 3 < 4


@pytest.mark.parametrize("base_type,cardinality,needle", [
    ("colour", "single", "unknown base type 'colour'"),
    ("string", "record", "record cardinality")])
def test_declarations_no_response_can_fit(base_type, cardinality, needle):
    compiled = item(declare(base_type=base_type, cardinality=cardinality), rp="")
    with pytest.raises(ResponseMisfit, match=needle):
        compiled.process({"RESPONSE": "x"})
    assert compiled.process({"RESPONSE": None}).score == 0.0


def test_not_an_item_is_refused():
    with pytest.raises(ItemNotScorable, match="not a qti-assessment-item"):
        compile_item(parse(f'<qti-assessment-test xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" '
                           'identifier="t"/>'))


def test_qti2_camel_case_item():
    legacy = ('<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="old">'
              '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
              '<correctResponse><value>A</value></correctResponse></responseDeclaration>'
              '<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
              '<itemBody><choiceInteraction responseIdentifier="RESPONSE"/></itemBody>'
              '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/'
              'match_correct"/></assessmentItem>')
    compiled = compile_item(parse(legacy))
    assert compiled.interactions == {"RESPONSE": "qti-choice-interaction"}
    assert (score(compiled, "A"), score(compiled, "B")) == (1.0, 0.0)


# ---- Timeback's own example item --------------------------------------------------------------


def _timeback_items() -> list[str]:
    yaml = pytest.importorskip("yaml")
    shared = Path(os.environ.get("TBCONFORM_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    path = shared / "reference" / "timeback" / "qti-api.yaml"
    if not path.is_file():
        pytest.skip(f"Timeback's qti-api.yaml not found at {path} (set TBCONFORM_SHARED)")
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.lstrip().startswith(("<?xml", "<qti-assessment-item")) \
                and "<qti-assessment-item" in node:
            found.append(node.strip())
    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def test_timeback_examples_compile_and_score():
    roots = [parse(text) for text in _timeback_items()]
    items = [root for root in roots if root.tag.endswith("}qti-assessment-item")]
    examples = {compile_item(root).identifier: root for root in items}  # every one compiles
    assert len(examples) >= 10
    choice = compile_item(examples["xml-choice-item-1"])
    right, wrong = choice.process({"RESPONSE": "B"}), choice.process({"RESPONSE": "A"})
    # the template scores and the item's own rules set FEEDBACK, whose modal text is the value
    assert (right.score, right.feedback_identifier) == (1.0, "CORRECT")
    assert right.feedback_value == "Correct! Well done."
    assert (wrong.score, wrong.feedback_identifier) == (0.0, "INCORRECT")
    assert wrong.feedback_value.startswith("Incorrect.")
    essay = compile_item(examples["xml-extended-text-item-1"])
    assert not essay.scorable and essay.process({"RESPONSE": "words"}).scored is False


@pytest.mark.parametrize("base_type,response,needle", [
    ("integer", "2147483648", "out of the integer range"), ("integer", "-2147483649", "out of the integer range"),
    ("integer", "1e30", "out of the integer range"), ("integer", "9" * 5000, "is not an integer"),
    ("float", "1e999", "is not a number"), ("boolean", "yes", "is not a boolean"),
    ("pair", "A", "is not a pair")])
def test_out_of_range_and_odd_values_are_misfits_with_short_messages(base_type, response, needle):
    compiled = item(declare(base_type=base_type), rp="")
    with pytest.raises(ResponseMisfit, match=needle) as caught:
        compiled.process({"RESPONSE": response})
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("response,expected", [("true", 1.0), ("1", 1.0), ("FALSE", 0.0), ("0", 0.0)])
def test_boolean_response(response, expected):
    compiled = item(declare(base_type="boolean", correct=["true"]), template=MATCH)
    assert score(compiled, response) == expected


@pytest.mark.parametrize("cardinality,base_type,correct", [
    ("single", "identifier", ["B"]), ("multiple", "identifier", ["A", "C"]), ("ordered", "identifier", ["C", "A"]),
    ("single", "float", ["2.5"]), ("single", "integer", ["7"]), ("single", "boolean", ["false"]),
    ("multiple", "pair", ["B A", "C D"]), ("multiple", "directedPair", ["W1 G1"]), ("single", "point", ["3 4"]),
    ("single", "string", ["Hello there"])])
def test_correct_response_in_wire_form_scores_the_maximum(cardinality, base_type, correct):
    compiled = item(declare(cardinality=cardinality, base_type=base_type, correct=correct), template=MATCH)
    wire = compiled.correct_response()
    assert isinstance(wire, list) == (cardinality != "single")
    assert compiled.process({"RESPONSE": wire}).score == compiled.max_score == 1.0
    assert compiled.declaration("RESPONSE").base_type == base_type


@pytest.mark.parametrize("interaction,cardinality,correct,right,wrong", [
    ("qti-match-interaction", "multiple", ["C1 T1"], ["C1 T1"], ["T1 C1"]),
    ("qti-associate-interaction", "multiple", ["A B"], ["B A"], ["A C"]),
    ("qti-slider-interaction", "single", ["4"], "4.0", "5"),
    ("qti-choice-interaction", "single", ["A"], "A", "B")])
def test_missing_base_type_is_implied_by_the_interaction(interaction, cardinality, correct, right, wrong):
    declaration = declare(cardinality=cardinality, correct=correct).replace(' base-type="identifier"', "")
    compiled = item(declaration, template=MATCH, interaction=interaction)
    assert (score(compiled, right), score(compiled, wrong)) == (1.0, 0.0)


@pytest.mark.parametrize("filled,expected,verdict", [(10, 1.0, "correct"), (7, 0.7, "incorrect"),
                                                     (3, 0.3, "incorrect")])
def test_tenths_add_up_exactly(filled, expected, verdict):
    correct = [f"W{i} G{i}" for i in range(1, 11)]
    table = mapping({pair: 0.1 for pair in correct}, upper=1)
    compiled = item(declare(cardinality="multiple", base_type="directedPair", correct=correct, extra=table),
                    template=MAP, interaction="qti-gap-match-interaction")
    result = compiled.process({"RESPONSE": correct[:filled]})
    assert (result.score, result.feedback_identifier) == (expected, verdict)  # not 0.9999999999999999


def test_template_on_an_item_without_responses_is_not_scorable():
    compiled = compile_item(parse(xml(template=MATCH)))
    assert not compiled.scorable and compiled.response_ids == []
    assert compiled.process({}).scored is False
    with pytest.raises(ResponseMisfit, match=r"declares no response 'RESPONSE' \(declared: none\)"):
        compiled.process({"RESPONSE": "A"})
