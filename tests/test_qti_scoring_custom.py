"""Custom `qti-response-processing`: conditions (if / else-if / else), arithmetic, mapping bounds,
case sensitivity, tolerance modes, containers and NULL handling, each with the outcome worked out
by hand; plus the broken processing the engine must refuse (ItemNotScorable, never a crash)."""
from __future__ import annotations

import pytest

from tbconform.mocks.scoring import ItemNotScorable, ResponseMisfit
from tbconform.mocks.scoring.engine import PENDING
from tests.test_qti_scoring_kit import declare, item, mapping, outcome


def var(identifier: str = "RESPONSE") -> str:
    return f'<qti-variable identifier="{identifier}"/>'


def base(value: object, base_type: str = "float") -> str:
    return f'<qti-base-value base-type="{base_type}">{value}</qti-base-value>'


def op(name: str, *operands: str, **attrs: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attrs.items())
    return f"<qti-{name}{extra}>{''.join(operands)}</qti-{name}>"


def set_(identifier: str, expression: str) -> str:
    return f'<qti-set-outcome-value identifier="{identifier}">{expression}</qti-set-outcome-value>'


def cond(*branches: tuple[str | None, str]) -> str:
    """A qti-response-condition: (test, body) pairs; test None is the else branch."""
    parts = []
    for index, (test, body) in enumerate(branches):
        kind = "else" if test is None else "if" if index == 0 else "else-if"
        parts.append(f"<qti-response-{kind}>{test or ''}{body}</qti-response-{kind}>")
    return f"<qti-response-condition>{''.join(parts)}</qti-response-condition>"


def scored(rules: str, *declarations: str, outcomes=None, tail: str = ""):
    return item(*(declarations or (declare(base_type="integer"),)), rp=rules, outcomes=outcomes, tail=tail)


# ---- conditions ------------------------------------------------------------------------------

GRADES = cond((op("gte", var(), base(90, "integer")), set_("SCORE", base(3))),
              (op("gte", var(), base(50, "integer")), set_("SCORE", base(2))),
              (op("is-null", var()), set_("SCORE", base(-1))),
              (None, set_("SCORE", base(1))))


@pytest.mark.parametrize("response,expected", [
    ("95", 3.0), ("90", 3.0), ("89", 2.0), ("50", 2.0), ("49", 1.0), ("-7", 1.0), (None, -1.0), ("", -1.0)])
def test_if_else_if_else(response, expected):
    assert scored(GRADES).process({"RESPONSE": response}).score == expected


def test_first_true_branch_wins_and_no_branch_leaves_outcome():
    rules = cond((op("gt", var(), base(0, "integer")), set_("SCORE", base(1))),
                 (op("gt", var(), base(-10, "integer")), set_("SCORE", base(2))))
    compiled = scored(rules, outcomes=[outcome(default="0.25")])
    assert [compiled.process({"RESPONSE": r}).score for r in ("5", "-5", "-50")] == [1.0, 2.0, 0.25]


def test_nested_conditions_and_exit_response():
    inner = cond((op("lt", var(), base(10, "integer")), set_("SCORE", base(1)) + "<qti-exit-response/>"))
    rules = cond((op("gt", var(), base(0, "integer")), inner)) + set_("SCORE", base(9))
    compiled = scored(rules)
    assert compiled.process({"RESPONSE": "5"}).score == 1.0     # exits before the last rule
    assert compiled.process({"RESPONSE": "50"}).score == 9.0
    assert compiled.process({"RESPONSE": "-5"}).score == 9.0


# ---- arithmetic and sums ---------------------------------------------------------------------

TWO = (declare("R1", cardinality="multiple", extra=mapping({"A": 1, "B": 2}, upper=2.5)),
       declare("R2", base_type="string", extra=mapping({"x": 0.5}, default=-1)))


@pytest.mark.parametrize("responses,expected", [
    ({"R1": ["A"], "R2": "x"}, 1.0 + 0.5 + 0.25),
    ({"R1": ["A", "B"], "R2": "x"}, 2.5 + 0.5 + 0.25),   # 3 capped at 2.5
    ({"R1": ["B"], "R2": "y"}, 2 - 1 + 0.25),            # y unmapped: default -1
    ({"R1": ["A"], "R2": None}, 1.0 + 0 + 0.25),         # no response maps to 0, not the default
])
def test_sum_of_mapped_responses(responses, expected):
    rules = set_("SCORE", op("sum", op("map-response", identifier="R1"), op("map-response", identifier="R2"),
                             base(0.25)))
    assert scored(rules, *TWO).process(responses).score == pytest.approx(expected)


def test_sum_with_null_is_null():
    rules = set_("SCORE", op("sum", var("R1"), base(1, "integer")))
    compiled = scored(rules, declare("R1", base_type="integer"), outcomes=[outcome(default="5")])
    assert compiled.process({"R1": "2"}).score == 3.0
    result = compiled.process({"R1": None})
    assert result.score == 0.0 and result.outcomes["SCORE"] is None  # NULL, not the default 5


@pytest.mark.parametrize("expression,expected", [
    (op("product", base(2), base(3, "integer"), base(0.5)), 3.0),
    (op("subtract", base(2), base(3.5)), -1.5),
    (op("divide", base(7), base(2)), 3.5),
    (op("integer-divide", base(7, "integer"), base(2, "integer")), 3.0),
    (op("integer-divide", base(-7, "integer"), base(2, "integer")), -4.0),  # rounds down
    (op("integer-modulus", base(7, "integer"), base(3, "integer")), 1.0),
    (op("round", base(2.5)), 3.0), (op("round", base(-2.5)), -2.0), (op("truncate", base(-2.7)), -2.0),
    (op("power", base(2), base(10)), 1024.0),
    (op("min", base(4), base(2), base(3)), 2.0), (op("max", base(4), base(2), base(3)), 4.0),
    (op("round-to", base(3.14159), rounding_mode="decimalPlaces", figures="2"), 3.14),
    (op("round-to", base(31415.9), rounding_mode="significantFigures", figures="3"), 31400.0),
])
def test_arithmetic(expression, expected):
    assert scored(set_("SCORE", expression)).process({}).score == pytest.approx(expected)


@pytest.mark.parametrize("expression", [op("divide", base(1), base(0)),
                                        op("integer-divide", base(1, "integer"), base(0, "integer")),
                                        op("sum", base(1), "<qti-null/>")])
def test_undefined_arithmetic_is_null(expression):
    rules = set_("SCORE", base(7)) + cond((op("is-null", expression), set_("SCORE", base(-1))))
    assert scored(rules).process({}).score == -1.0


def test_integer_outcome_and_coercion():
    rules = set_("SCORE", op("sum", var(), base(0.5))) + set_("COUNT", op("sum", var(), base(1, "integer")))
    compiled = scored(rules, outcomes=[outcome(), outcome("COUNT", "integer")])
    result = compiled.process({"RESPONSE": "2"})
    assert result.outcomes == {"SCORE": 2.5, "COUNT": 3}
    assert isinstance(result.outcomes["COUNT"], int)


# ---- mapping bounds inside custom processing ---------------------------------------------------


@pytest.mark.parametrize("response,expected", [
    (["A", "B", "C"], 2.0), (["A"], 1.0), (["D"], -0.5), (["D", "E"], -0.5), (None, 0.0)])
def test_map_response_bounds(response, expected):
    table = mapping({"A": 1, "B": 1, "C": 1, "D": -1, "E": -1}, lower=-0.5, upper=2)
    rules = cond((op("is-null", var()), set_("SCORE", base(0))),
                 (None, set_("SCORE", op("map-response", identifier="RESPONSE"))))
    compiled = scored(rules, declare(cardinality="multiple", extra=table))
    assert compiled.process({"RESPONSE": response}).score == expected


# ---- case sensitivity ------------------------------------------------------------------------


@pytest.mark.parametrize("sensitive,substring,response,expected", [
    ("true", "false", "Paris", 1.0), ("true", "false", "paris", 0.0),
    ("false", "false", "pARIS", 1.0), ("false", "false", "Pariss", 0.0),
    ("true", "true", "I live in Paris", 1.0), ("true", "true", "i live in paris", 0.0),
    ("false", "true", "I LIVE IN PARIS!", 1.0), (None, "false", "paris", 0.0),  # default: sensitive
])
def test_string_match(sensitive, substring, response, expected):
    attrs = {"substring": substring}
    if sensitive is not None:
        attrs["case_sensitive"] = sensitive
    rules = cond((op("string-match", var(), base("Paris", "string"), **attrs), set_("SCORE", base(1))),
                 (None, set_("SCORE", base(0))))
    compiled = scored(rules, declare(base_type="string"))
    assert compiled.process({"RESPONSE": response}).score == expected


def test_match_on_strings_is_case_sensitive_and_map_entries_choose():
    table = mapping([("paris", 0.5, True), ("PARIS", 0.75, False), ("Paris", 1, True)])
    rules = set_("SCORE", op("map-response", identifier="RESPONSE"))
    compiled = scored(rules, declare(base_type="string", extra=table))
    # "paris" hits its own sensitive entry first; "Paris" and "pArIs" reach the insensitive
    # entry, which comes before the sensitive "Paris" one, so it wins
    assert [compiled.process({"RESPONSE": r}).score for r in ("paris", "Paris", "pArIs", "x")] == \
        [0.5, 0.75, 0.75, 0.0]


def test_pattern_match():
    rules = cond((op("pattern-match", var(), pattern=r"[0-9]{3}-[0-9]{4}"), set_("SCORE", base(1))))
    compiled = scored(rules, declare(base_type="string"))
    assert [compiled.process({"RESPONSE": r}).score for r in ("555-1234", "x555-1234", "5551234")] == [1, 0, 0]


# ---- tolerance -------------------------------------------------------------------------------


def _equal_item(**attrs: str):
    test = op("equal", base(10), var(), **attrs)
    rules = cond((test, set_("SCORE", base(1))), (None, set_("SCORE", base(0))))
    return scored(rules, declare(base_type="float"))


@pytest.mark.parametrize("attrs,response,expected", [
    ({}, "10", 1.0), ({}, "10.0000001", 0.0),
    ({"tolerance_mode": "exact"}, "10.00", 1.0),
    ({"tolerance_mode": "absolute", "tolerance": "0.5"}, "10.5", 1.0),
    ({"tolerance_mode": "absolute", "tolerance": "0.5"}, "9.5", 1.0),
    ({"tolerance_mode": "absolute", "tolerance": "0.5"}, "10.51", 0.0),
    ({"tolerance_mode": "absolute", "tolerance": "1 2"}, "8.9", 0.0),   # [9, 12]
    ({"tolerance_mode": "absolute", "tolerance": "1 2"}, "11.9", 1.0),
    ({"tolerance_mode": "absolute", "tolerance": "1 2", "include_lower_bound": "false"}, "9", 0.0),
    ({"tolerance_mode": "absolute", "tolerance": "1 2", "include_upper_bound": "false"}, "12", 0.0),
    ({"tolerance_mode": "absolute", "tolerance": "1 2", "include_upper_bound": "false"}, "11.99", 1.0),
    ({"tolerance_mode": "relative", "tolerance": "10"}, "11", 1.0),     # [9, 11]
    ({"tolerance_mode": "relative", "tolerance": "10"}, "11.01", 0.0),
    ({"tolerance_mode": "relative", "tolerance": "5 20"}, "9.4", 0.0),  # [9.5, 12]
    ({"tolerance_mode": "relative", "tolerance": "5 20"}, "12", 1.0),
    ({"tolerance_mode": "relative", "tolerance": "5 20", "include_upper_bound": "false"}, "12", 0.0),
    ({"tolerance_mode": "absolute", "tolerance": "0.5"}, None, 0.0),   # NULL: the condition is false
])
def test_equal_tolerance(attrs, response, expected):
    assert _equal_item(**attrs).process({"RESPONSE": response}).score == expected


def test_slider_tolerance_against_correct():
    rules = cond((op("equal", "<qti-correct identifier=\"RESPONSE\"/>", var(), tolerance_mode="absolute",
                     tolerance="2"), set_("SCORE", base(1))))
    compiled = item(declare(base_type="integer", correct=["40"]), rp=rules, interaction="qti-slider-interaction")
    assert [compiled.process({"RESPONSE": r}).score for r in ("38", "42", "43", "40")] == [1, 1, 0, 1]


# ---- comparison and containers ---------------------------------------------------------------


@pytest.mark.parametrize("expression,expected", [
    (op("member", base("B", "identifier"), var()), True),
    (op("member", base("Z", "identifier"), var()), False),
    (op("contains", var(), op("multiple", base("C", "identifier"), base("A", "identifier"))), True),
    (op("contains", var(), op("multiple", base("A", "identifier"), base("A", "identifier"))), False),
    (op("match", op("container-size", var()), base(3, "integer")), True),
    (op("match", var(), op("multiple", base("C", "identifier"), base("B", "identifier"),
                             base("A", "identifier"))), True),
    (op("match", op("delete", base("B", "identifier"), var()),
        op("multiple", base("A", "identifier"), base("C", "identifier"))), True),
    (op("any-n", op("member", base("A", "identifier"), var()), op("member", base("Z", "identifier"), var()),
        min="1", max="1"), True),
])
def test_container_operators(expression, expected):
    rules = cond((expression, set_("SCORE", base(1))), (None, set_("SCORE", base(0))))
    compiled = scored(rules, declare(cardinality="multiple"))
    assert compiled.process({"RESPONSE": ["A", "B", "C"]}).score == float(expected)


def test_ordered_contains_is_a_contiguous_run_and_index():
    order = declare(cardinality="ordered")
    run = op("ordered", base("B", "identifier"), base("C", "identifier"))
    rules = cond((op("contains", var(), run), set_("SCORE", base(1)))) + \
        cond((op("match", op("index", var(), n="1"), base("A", "identifier")), set_("BONUS", base(1))))
    compiled = scored(rules, order, outcomes=[outcome(), outcome("BONUS")])
    assert compiled.process({"RESPONSE": ["A", "B", "C"]}).outcomes == {"SCORE": 1.0, "BONUS": 1.0}
    assert compiled.process({"RESPONSE": ["B", "A", "C"]}).outcomes == {"SCORE": 0.0, "BONUS": 0.0}
    assert compiled.process({"RESPONSE": ["C", "B"]}).outcomes == {"SCORE": 0.0, "BONUS": 0.0}


def test_container_outcome_as_json():
    rules = set_("PAIRS", var()) + set_("SCORE", op("container-size", var()))
    compiled = scored(rules, declare(cardinality="multiple", base_type="directedPair"),
                      outcomes=[outcome(), outcome("PAIRS", "directedPair", "multiple")])
    result = compiled.process({"RESPONSE": ["A B", "C D"]})
    assert result.outcomes == {"SCORE": 2.0, "PAIRS": ["A B", "C D"]}
    assert compiled.process({}).outcomes == {"SCORE": 0.0, "PAIRS": None}


# ---- NULL handling ---------------------------------------------------------------------------


@pytest.mark.parametrize("test,expected", [
    (op("match", var(), base("A", "identifier")), "else"),          # NULL match: false
    (op("not", op("match", var(), base("A", "identifier"))), "else"),  # not NULL is NULL: false too
    (op("is-null", var()), "if"),
    (op("and", op("is-null", var()), op("match", var(), base("A", "identifier"))), "else"),  # true and NULL
    (op("or", op("is-null", var()), op("match", var(), base("A", "identifier"))), "if"),  # true or NULL
    (op("and", op("not", op("is-null", var())), op("match", var(), var())), "else"),   # false and NULL
    (op("or", "<qti-null/>", op("gt", var(), base(1))), "else"),
    (op("not", op("and", op("is-null", var()), "<qti-null/>")), "else"),  # not (true and NULL): NULL
    (op("not", op("or", op("not", op("is-null", var())), "<qti-null/>")), "else"),  # not (false or NULL)
    (op("not", op("or", op("is-null", var()), "<qti-null/>")), "else"),   # not (true or NULL) = false
    (op("not", op("and", op("not", op("is-null", var())), "<qti-null/>")), "if"),  # not (false and NULL)
    (op("is-null", op("multiple")), "if"),                           # an empty container is NULL
])
def test_null_semantics(test, expected):
    rules = cond((test, set_("WHICH", base("if", "identifier"))), (None, set_("WHICH", base("else", "identifier"))))
    compiled = scored(rules, declare(), outcomes=[outcome(), outcome("WHICH", "identifier")])
    assert compiled.process({"RESPONSE": None}).outcomes["WHICH"] == expected


def test_correct_and_default_expressions():
    rules = cond((op("match", var(), '<qti-correct identifier="RESPONSE"/>'), set_("SCORE", base(2))),
                 (op("match", var(), '<qti-default identifier="RESPONSE"/>'), set_("SCORE", base(1))))
    compiled = scored(rules, declare(correct=["B"], default=["A"]))
    assert [compiled.process({"RESPONSE": r}).score for r in ("B", "A", None, "C")] == [2, 1, 1, 0]


# ---- feedback --------------------------------------------------------------------------------

FEEDBACK_TAIL = (
    '<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="GREAT" show-hide="show">'
    '<qti-content-body><p>Great <b>work</b>!</p></qti-content-body></qti-modal-feedback>'
    '<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="MEH" show-hide="hide">'
    '<qti-content-body>hidden</qti-content-body></qti-modal-feedback>')


def test_feedback_outcome_and_its_text():
    rules = cond((op("match", var(), base("A", "identifier")),
                  set_("SCORE", base(1)) + set_("FEEDBACK", base("GREAT", "identifier"))),
                 (None, set_("FEEDBACK", base("MEH", "identifier"))))
    compiled = scored(rules, declare(), outcomes=[outcome(), outcome("FEEDBACK", "identifier")],
                      tail=FEEDBACK_TAIL)
    right, wrong = compiled.process({"RESPONSE": "A"}), compiled.process({"RESPONSE": "B"})
    assert (right.feedback_identifier, right.feedback_value) == ("GREAT", "Great work!")
    assert (wrong.feedback_identifier, wrong.feedback_value) == ("MEH", "Incorrect")  # hide: no text
    assert compiled.max_score is None  # custom processing, no MAXSCORE: correct when score > 0


def test_default_identifiers_use_correct_incorrect_feedback_text():
    tail = ('<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="CORRECT" show-hide="show">'
            'Yes!</qti-modal-feedback>')
    compiled = item(declare(correct=["A"]), template="match_correct", tail=tail)
    assert compiled.process({"RESPONSE": "A"}).feedback == {"identifier": "correct", "value": "Yes!"}
    assert compiled.process({"RESPONSE": "B"}).feedback == {"identifier": "incorrect", "value": "Incorrect"}


def test_template_and_rules_both_run():
    rules = cond((op("match", var(), '<qti-correct identifier="RESPONSE"/>'),
                  set_("FEEDBACK", base("RIGHT", "identifier"))))
    compiled = item(declare(correct=["A"]), template="match_correct", rp=rules,
                    outcomes=[outcome("FEEDBACK", "identifier")])
    result = compiled.process({"RESPONSE": "A"})
    assert (result.score, result.feedback_identifier, compiled.max_score) == (1.0, "RIGHT", 1.0)


def test_extended_text_with_rules_stays_pending():
    rules = cond((op("not", op("is-null", var())), set_("SCORE", base(1))))
    compiled = item(declare(base_type="string"), template="map_response", rp=rules,
                    interaction="qti-extended-text-interaction")
    result = compiled.process({"RESPONSE": "essay"})
    assert (result.scored, result.feedback_identifier, result.score) == (False, PENDING, 0.0)


# ---- broken processing -----------------------------------------------------------------------


@pytest.mark.parametrize("rules,needle", [
    (set_("SCORE", op("frobnicate", var())), "qti-frobnicate> (line 1) is not a supported expression"),
    (set_("SCORE", var("NOPE")), "'NOPE', which is not a declared variable"),
    (set_("NOPE", base(1)), "sets 'NOPE', which is not a declared outcome"),
    (set_("SCORE", op("match", var())), "needs 2 operand(s), has 1"),
    (set_("SCORE", base("x")), "'x' is not a number"),
    (set_("SCORE", base("1", "colour")), "unknown base type 'colour'"),
    (set_("SCORE", op("map-response", identifier="RESPONSE")), "has no qti-mapping"),
    (set_("SCORE", op("map-response-point", identifier="RESPONSE")), "has no qti-area-mapping"),
    ("<qti-response-condition><qti-response-else-if>" + base(1, "boolean") + "</qti-response-else-if>"
     "</qti-response-condition>", "starts with one qti-response-if"),
    ("<qti-template-processing/>", "is not a supported response rule"),
    (set_("SCORE", op("equal", base(1), base(1), tolerance_mode="absolute", tolerance="{T}")), "tolerance"),
    (set_("SCORE", op("equal", base(1), base(1), tolerance_mode="sloppy")), "unknown tolerance-mode"),
    (set_("SCORE", op("pattern-match", var(), pattern="(")), "is not a regular expression"),
    (set_("SCORE", op("custom-operator", var())), "not a supported expression"),
])
def test_broken_processing_is_refused(rules, needle):
    with pytest.raises(ItemNotScorable) as caught:
        scored(rules)
    assert needle in str(caught.value)


def test_type_errors_at_run_time_are_not_scorable_errors():
    rules = set_("SCORE", op("sum", var(), base(1)))
    compiled = scored(rules, declare(base_type="string"))
    with pytest.raises(ItemNotScorable, match="response processing failed"):
        compiled.process({"RESPONSE": "abc"})
    with pytest.raises(ResponseMisfit):
        compiled.process({"RESPONSE": ["a", "b"]})


# ---- lookup tables ---------------------------------------------------------------------------

def _grade_outcome(table: str) -> str:
    return f'<qti-outcome-declaration identifier="GRADE" cardinality="single" base-type="identifier">{table}' \
        '</qti-outcome-declaration>'


@pytest.mark.parametrize("response,expected", [
    ("90", "A"), ("95", "A"), ("89", "B"), ("80", "B"),
    ("71", "C"), ("70", "D"),   # 70 is not above 70 (boundary excluded): the next entry
    ("60", "D"), ("59", "F"), (None, None)])
def test_interpolation_table(response, expected):
    table = ('<qti-interpolation-table default-value="F">'
             '<qti-interpolation-table-entry source-value="90" target-value="A"/>'
             '<qti-interpolation-table-entry source-value="80" target-value="B"/>'
             '<qti-interpolation-table-entry source-value="70" target-value="C" include-boundary="false"/>'
             '<qti-interpolation-table-entry source-value="60" target-value="D"/>'
             '</qti-interpolation-table>')
    rules = f'<qti-lookup-outcome-value identifier="GRADE">{var()}</qti-lookup-outcome-value>'
    compiled = scored(rules, outcomes=[outcome(), _grade_outcome(table)])
    assert compiled.process({"RESPONSE": response}).outcomes["GRADE"] == expected


@pytest.mark.parametrize("response,expected", [("1", "one"), ("2", "two"), ("3", "many")])
def test_match_table(response, expected):
    table = ('<qti-match-table default-value="many"><qti-match-table-entry source-value="1" target-value="one"/>'
             '<qti-match-table-entry source-value="2" target-value="two"/>'
             '<qti-match-table-entry source-value="2" target-value="ignored"/></qti-match-table>')
    rules = f'<qti-lookup-outcome-value identifier="GRADE">{var()}</qti-lookup-outcome-value>'
    compiled = scored(rules, outcomes=[outcome(), _grade_outcome(table)])
    assert compiled.process({"RESPONSE": response}).outcomes["GRADE"] == expected


def test_lookup_without_table_is_refused():
    rules = f'<qti-lookup-outcome-value identifier="SCORE">{var()}</qti-lookup-outcome-value>'
    with pytest.raises(ItemNotScorable, match="match-table or qti-interpolation-table"):
        scored(rules)


def test_builtin_num_attempts():
    rules = set_("SCORE", op("sum", var("numAttempts"), base(0.5)))
    assert scored(rules).process({}).score == 1.5
