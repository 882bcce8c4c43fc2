"""Generate the QTI (Timeback) OpenAPI 3.1 spec.

Run from the repository root:  python -m tbconform.specs.qti._generate

Writes qti.yaml next to this file. Timeback's QTI API is proprietary JSON REST over QTI 3.0 XML:
items, tests and stimuli keep their `rawXml` and a parsed `content` object; tests hold their parts,
sections and item references in order inside the test record. Schemas come from the tables below
(one OPS row per operation); where Timeback's qti-api.yaml and the 0.4.0 official client disagree,
the sandbox serves what the client parses and says so in DIFFERENCES. The API is mounted at the
root and under `/api` (`x-tb-mounts`): single-host clients call the root, the real host has `/api`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tbconform.specs.fieldpaths import field_paths, filter_pattern
from tbconform.specs.qti.content import ITEM_TYPES, QTI_NS
from tbconform.specs.schema_kit import (add_operation, arr, components_for, dump_yaml, enum, finish_operation,
                                         obj, s, sref)

HERE = Path(__file__).resolve().parent
SCOPE = "https://purl.imsglobal.org/spec/qti/v3/scope/"
SERVERS = [{"url": "http://127.0.0.1:8765", "description": "sandbox"},
           {"url": "https://qti.alpha-1edtech.ai/api"}]
STAMP = "2025-09-01T08:00:00.000Z"
LIB: dict[str, dict[str, Any]] = {k: {} for k in ("schemas", "parameters", "headers", "requestBodies",
                                                  "responses", "securitySchemes")}
SCHEMAS = LIB["schemas"]
STR, BOOL, INT, NUM = s(), s("boolean"), s("integer"), s("number")
NONEMPTY = s(minLength=1, maxLength=256)
# the identifier of a record a client creates: it becomes an XML attribute and a path segment
IDENT = s(minLength=1, maxLength=256, pattern="^[A-Za-z0-9_][A-Za-z0-9_.:~-]*$",
          description="A QTI identifier (letters, digits, `_ . : ~ -`).")
OPEN = s("object", additionalProperties=True)
CARDINALITY = enum("single", "multiple", "ordered", "record")
BASE_TYPE = enum("identifier", "boolean", "integer", "float", "string", "point", "pair", "directedPair",
                 "duration", "file", "uri")
STAMPS = {"createdAt": s(format="date-time"), "updatedAt": s(format="date-time")}


def schema(name: str, props: dict[str, Any], required: list[str], description: str, example: Any,
           **kw: Any) -> None:
    SCHEMAS[name] = obj(props, required, description=description, example=example, **kw)


# ----------------------------------------------------------------------------------------------
# Items
# ----------------------------------------------------------------------------------------------

ITEM_XML = (f'<qti-assessment-item xmlns="{QTI_NS}" identifier="item-0001" title="Add" adaptive="false" '
            'time-dependent="false"><qti-response-declaration identifier="RESPONSE" cardinality="single" '
            'base-type="identifier"><qti-correct-response><qti-value>B</qti-value></qti-correct-response>'
            '</qti-response-declaration><qti-outcome-declaration identifier="SCORE" cardinality="single" '
            'base-type="float"/><qti-item-body><qti-choice-interaction response-identifier="RESPONSE" '
            'max-choices="1"><qti-prompt>2 + 2?</qti-prompt><qti-simple-choice identifier="A">3</qti-simple-choice>'
            '<qti-simple-choice identifier="B">4</qti-simple-choice></qti-choice-interaction></qti-item-body>'
            '<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/'
            'match_correct"/></qti-assessment-item>')
RESPONSE_DECL = {"identifier": "RESPONSE", "cardinality": "single", "baseType": "identifier",
                 "correctResponse": {"value": ["B"]}}
schema("ResponseDeclaration", {
    "identifier": STR, "cardinality": CARDINALITY, "baseType": BASE_TYPE,
    "correctResponse": obj({"value": arr(STR)}, ["value"]),
    "mapping": obj({"defaultValue": NUM, "lowerBound": NUM, "upperBound": NUM,
                    "entries": arr(obj({"mapKey": STR, "mappedValue": NUM, "caseSensitive": BOOL},
                                       ["mapKey", "mappedValue"]))},
                   description="The declaration's qti-mapping (a sandbox addition read from the XML)."),
}, ["identifier", "cardinality", "correctResponse"], "A response declaration.", RESPONSE_DECL)
schema("OutcomeDeclaration", {"identifier": STR, "cardinality": CARDINALITY, "baseType": BASE_TYPE,
                              "defaultValue": obj({"value": {}})},
       ["identifier", "cardinality"], "An outcome declaration.",
       {"identifier": "SCORE", "cardinality": "single", "baseType": "float"})
RP = {"templateType": "match_correct", "responseDeclarationIdentifier": "RESPONSE", "outcomeIdentifier": "FEEDBACK",
      "correctResponseIdentifier": "CORRECT", "incorrectResponseIdentifier": "INCORRECT"}
schema("ResponseProcessing", {
    "templateType": enum("match_correct", "map_response"), "responseDeclarationIdentifier": STR,
    "outcomeIdentifier": STR, "correctResponseIdentifier": STR, "incorrectResponseIdentifier": STR,
    "inlineFeedback": obj({"outcomeIdentifier": STR, "variableIdentifier": STR},
                          ["outcomeIdentifier", "variableIdentifier"]),
}, list(RP), "Timeback's structured response processing (the XML's processing is authoritative).", RP)
GRADE = {"anyOf": [enum(*[str(g) for g in range(-1, 14)]), s("integer", minimum=-1, maximum=13)],
         "description": "-1 Pre-K .. 13 AP (the spec says a string, the 0.4.0 client an integer)."}
METADATA = {"subject": "Math", "grade": 5, "difficulty": "easy",
            "learningObjectiveSet": [{"source": "CASE", "learningObjectiveIds": ["lo-0001"]}]}
schema("ItemMetadata", {"subject": STR, "grade": GRADE, "difficulty": enum("easy", "medium", "hard"),
                        "learningObjectiveSet": arr(obj({"source": NONEMPTY, "learningObjectiveIds": arr(STR)},
                                                        ["source", "learningObjectiveIds"]))},
       [], "Item metadata (free-form beyond these members).", METADATA)
SHOW_HIDE = enum("show", "hide")
schema("ModalFeedback", {"outcomeIdentifier": STR, "identifier": STR, "showHide": SHOW_HIDE,
                         "content": STR, "title": STR},
       ["outcomeIdentifier", "identifier", "showHide", "content", "title"], "A modal feedback.",
       {"outcomeIdentifier": "FEEDBACK", "identifier": "CORRECT", "showHide": "show", "content": "<p>Yes</p>",
        "title": "Correct"})
for _name, _desc in (("FeedbackInline", "An inline feedback."), ("FeedbackBlock", "A block feedback.")):
    schema(_name, {"outcomeIdentifier": STR, "identifier": STR, "showHide": SHOW_HIDE, "content": STR,
                   "class": arr(STR)}, ["outcomeIdentifier", "identifier", "showHide", "content"], _desc,
           {"outcomeIdentifier": "FEEDBACK-INLINE", "identifier": "A", "showHide": "show", "content": "No",
            "class": []})
ITEM_TYPE = enum(*ITEM_TYPES)
ITEM_COMMON = {
    "identifier": IDENT, "title": s(minLength=1), "type": ITEM_TYPE, "qtiVersion": STR, "timeDependent": BOOL,
    "adaptive": BOOL, "responseDeclarations": arr(sref("ResponseDeclaration")),
    "outcomeDeclarations": arr(sref("OutcomeDeclaration")), "responseProcessing": sref("ResponseProcessing"),
    "metadata": sref("ItemMetadata"), "modalFeedback": arr(sref("ModalFeedback")),
    "feedbackInline": arr(sref("FeedbackInline")), "feedbackBlock": arr(sref("FeedbackBlock")),
}
CONTENT = s("object", additionalProperties=True,
            description="The XML as a compact object: `{<root>: {_attributes, _text, <child>: ...}}`.")
ITEM = {"identifier": "item-0001", "title": "Add", "type": "choice", "qtiVersion": "3.0", "timeDependent": False,
        "adaptive": False, "responseDeclarations": [RESPONSE_DECL],
        "outcomeDeclarations": [{"identifier": "SCORE", "cardinality": "single", "baseType": "float"}],
        "metadata": METADATA, "rawXml": ITEM_XML, "content": {"qti-assessment-item": {"_attributes": {
            "identifier": "item-0001"}}}, "modalFeedback": [], "feedbackInline": [], "feedbackBlock": [],
        "createdAt": STAMP, "updatedAt": STAMP}
schema("AssessmentItem", {**ITEM_COMMON, "identifier": STR, "title": STR, "rawXml": STR, "content": CONTENT,
                          "interaction": OPEN, **STAMPS},
       ["identifier", "title", "type", "qtiVersion", "timeDependent", "adaptive", "rawXml", "content",
        "createdAt", "updatedAt"], "An assessment item as stored and answered.", ITEM)
INTERACTION = {"type": "choice", "responseIdentifier": "RESPONSE", "shuffle": False, "maxChoices": 1,
               "questionStructure": {"prompt": "2 + 2?", "choices": [{"identifier": "A", "content": "3"},
                                                                     {"identifier": "B", "content": "4"}]}}
schema("ItemInteraction", {
    "type": ITEM_TYPE, "responseIdentifier": NONEMPTY, "shuffle": BOOL, "maxChoices": s("integer", minimum=0),
    "attributes": OPEN,
    "questionStructure": obj({"prompt": STR, "choices": arr(obj({"identifier": NONEMPTY, "content": STR,
                                                                 "feedbackInline": STR,
                                                                 "feedbackOutcomeIdentifier": NONEMPTY},
                                                                ["identifier", "content"]))}),
}, ["type", "responseIdentifier", "questionStructure"], "The interaction of a JSON-created item.", INTERACTION)
JSON_ITEM = {"identifier": "item-0001", "title": "Add", "type": "choice", "interaction": INTERACTION,
             "responseDeclarations": [RESPONSE_DECL], "responseProcessing": RP, "metadata": METADATA}
schema("AssessmentItemJson", {"format": enum("json"), **ITEM_COMMON, "interaction": sref("ItemInteraction"),
                              "preInteraction": STR, "postInteraction": STR, "rubrics": arr(OPEN),
                              "stimulus": obj({"identifier": NONEMPTY, "href": STR, "title": STR}, ["identifier"]),
                              "rawXml": STR, "content": OPEN},
       ["identifier", "title", "type"], "An item as structured JSON (turned into QTI 3.0 XML).", JSON_ITEM)
schema("AssessmentItemXml", {"format": enum("xml"), "xml": s(minLength=1, description="A qti-assessment-item "
                                                                                       "document."),
                             "metadata": sref("ItemMetadata")},
       ["format", "xml"], "An item as QTI 3.0 XML.", {"format": "xml", "xml": ITEM_XML, "metadata": METADATA},
       additionalProperties=False)
SCHEMAS["AssessmentItemInput"] = {"anyOf": [sref("AssessmentItemXml"), sref("AssessmentItemJson")],
                                  "description": "An item as XML (`format: xml`) or structured JSON.",
                                  "example": {"format": "xml", "xml": ITEM_XML}}
schema("ProcessResponseInput", {"identifier": NONEMPTY,
                                "response": {"anyOf": [STR, arr(STR)], "description": "The candidate's response: "
                                             "a value, or one per selection/pair (`A B` pairs, `x y` points)."}},
       ["identifier", "response"], "A response to score: `identifier` names the response declaration.",
       {"identifier": "RESPONSE", "response": "B"})
schema("ProcessResponseResult", {"score": NUM, "feedback": obj({"identifier": STR, "value": STR},
                                                               ["identifier", "value"])},
       ["score", "feedback"], "The score and the feedback outcome's identifier and text.",
       {"score": 1, "feedback": {"identifier": "CORRECT", "value": "Correct"}})

# ----------------------------------------------------------------------------------------------
# Tests, parts, sections, item refs
# ----------------------------------------------------------------------------------------------

REF = {"identifier": "item-0001", "href": "assessment-items/item-0001", "sequence": 1}
schema("ItemRef", {"identifier": STR, "href": STR, "sequence": s("integer", minimum=1),
                   "required": BOOL, "fixed": BOOL, "category": arr(STR)},
       ["identifier", "href"], "An assessment item reference (position = `sequence`, 1-based).", REF)
SECTION = {"identifier": "section-1", "title": "Section 1", "visible": True, "sequence": 1,
           "qti-assessment-item-ref": [REF]}
schema("Section", {"identifier": STR, "title": STR, "visible": BOOL, "required": BOOL,
                   "fixed": BOOL, "sequence": s("integer", minimum=1), "qti-assessment-item-ref": arr(sref("ItemRef"))},
       ["identifier", "title", "visible"], "An assessment section with its item references in order.", SECTION)
PART = {"identifier": "part-1", "navigationMode": "linear", "submissionMode": "individual",
        "qti-assessment-section": [SECTION]}
schema("TestPart", {"identifier": STR, "navigationMode": enum("linear", "nonlinear"),
                    "submissionMode": enum("individual", "simultaneous"),
                    "qti-assessment-section": arr(sref("Section"))},
       ["identifier", "navigationMode", "submissionMode", "qti-assessment-section"],
       "A test part with its sections in order.", PART)
for _name in ("ItemRef", "Section", "TestPart"):  # what a client sends: an addressable identifier
    SCHEMAS[_name + "Input"] = {**copy.deepcopy(SCHEMAS[_name]),
                                "description": SCHEMAS[_name]["description"] + " (as sent: its identifier "
                                                                               "names it in paths)"}
    SCHEMAS[_name + "Input"]["properties"]["identifier"] = IDENT
TEST_OUTCOME = {"identifier": "SCORE", "cardinality": "single", "baseType": "float"}
schema("TestOutcomeDeclaration", {"identifier": STR, "cardinality": CARDINALITY, "baseType": BASE_TYPE,
                                  "normalMaximum": NUM, "normalMinimum": NUM, "defaultValue": obj({"value": {}})},
       ["identifier", "baseType"], "A test-level outcome declaration.", TEST_OUTCOME)
TEST_COMMON = {"identifier": IDENT, "title": s(minLength=1), "qtiVersion": STR, "toolName": STR,
               "toolVersion": STR, "timeLimit": s("integer", minimum=0), "maxAttempts": s("integer", minimum=0),
               "toolsEnabled": s("object", additionalProperties=BOOL), "metadata": OPEN,
               "qti-test-part": arr(sref("TestPart")), "qti-outcome-declaration": arr(sref("TestOutcomeDeclaration"))}
TEST_XML = (f'<qti-assessment-test xmlns="{QTI_NS}" identifier="test-0001" title="Quiz"><qti-test-part '
            'identifier="part-1" navigation-mode="linear" submission-mode="individual"><qti-assessment-section '
            'identifier="section-1" title="Section 1" visible="true"><qti-assessment-item-ref identifier="item-0001" '
            'href="assessment-items/item-0001"/></qti-assessment-section></qti-test-part></qti-assessment-test>')
TEST = {"identifier": "test-0001", "title": "Quiz", "qtiVersion": "3.0", "qti-test-part": [PART],
        "qti-outcome-declaration": [TEST_OUTCOME], "metadata": {}, "rawXml": TEST_XML,
        "content": {"qti-assessment-test": {"_attributes": {"identifier": "test-0001"}}}, "isValidXml": True,
        "createdAt": STAMP, "updatedAt": STAMP}
schema("AssessmentTest", {**TEST_COMMON, "identifier": STR, "title": STR, "rawXml": STR, "content": CONTENT,
                          "isValidXml": BOOL, **STAMPS},
       ["identifier", "title", "qtiVersion", "qti-test-part", "qti-outcome-declaration", "rawXml", "content",
        "createdAt", "updatedAt"], "An assessment test as stored and answered.", TEST)
JSON_TEST = {"identifier": "test-0001", "title": "Quiz", "qti-test-part": [PART]}
schema("AssessmentTestInput", {**TEST_COMMON, "rawXml": STR, "content": OPEN, "isValidXml": BOOL},
       ["identifier", "title", "qti-test-part"], "A test as JSON (parts, sections and refs in order).", JSON_TEST)
SCHEMAS["AssessmentTestXml"] = {
    "type": "object", "description": "A qti-assessment-test document.",
    "xml": {"name": "qti-assessment-test", "namespace": QTI_NS},
    "properties": {"identifier": {**NONEMPTY, "pattern": "^[A-Za-z_][A-Za-z0-9_.-]*$", "xml": {"attribute": True}},
                   "title": {**s(minLength=1, maxLength=200), "xml": {"attribute": True}},
                   "qti-test-part": {"type": "array", "xml": {"wrapped": False},
                                     "items": {"type": "object", "xml": {"name": "qti-test-part"}}}},
    "required": ["identifier", "title"]}  # its example is the XML text, on the media type
XML_EXAMPLES = {"AssessmentTestXml": TEST_XML}
schema("TestMetadataInput", {"metadata": OPEN}, ["metadata"], "New test metadata (merged into the stored one).",
       {"metadata": {"subject": "Math"}}, additionalProperties=False)
schema("ReorderInput", {"items": arr(sref("ItemRef"), minItems=1)}, ["items"],
       "The section's item references in their new order (the same identifiers).", {"items": [REF]})
QUESTION = {"reference": {"identifier": "item-0001", "href": "assessment-items/item-0001", "testPart": "part-1",
                          "section": "section-1"}, "question": ITEM}
schema("QuestionsAnswer", {"assessmentTest": STR, "title": STR, "totalQuestions": s("integer", minimum=0),
                           "questions": arr(obj({"reference": obj({"identifier": STR, "href": STR, "testPart": STR,
                                                                    "section": STR},
                                                                   ["identifier", "href", "testPart", "section"]),
                                                 "question": sref("AssessmentItem")}, ["reference", "question"]))},
       ["assessmentTest", "title", "totalQuestions", "questions"],
       "The referenced items in test order (parts, sections, refs).",
       {"assessmentTest": "test-0001", "title": "Quiz", "totalQuestions": 1, "questions": [QUESTION]})
schema("Message", {"message": STR}, ["message"], "What was done.", {"message": "Section deleted"})

# ----------------------------------------------------------------------------------------------
# Stimuli, feedback, validation
# ----------------------------------------------------------------------------------------------

STIMULUS_XML = (f'<qti-assessment-stimulus xmlns="{QTI_NS}" identifier="stimulus-0001" title="Passage">'
                '<qti-stimulus-body><p>Read this.</p></qti-stimulus-body></qti-assessment-stimulus>')
STIM_COMMON = {"identifier": IDENT, "title": s(minLength=1), "label": STR, "language": STR,
               "stylesheet": obj({"href": s(minLength=1), "type": s(minLength=1)}, ["href", "type"]),
               "catalogInfo": arr(obj({"id": NONEMPTY, "support": STR, "content": STR}, ["id", "support", "content"])),
               "toolName": STR, "toolVersion": STR, "metadata": OPEN}
STIMULUS = {"identifier": "stimulus-0001", "title": "Passage", "catalogInfo": [], "language": "en", "metadata": {},
            "rawXml": STIMULUS_XML, "content": {"qti-assessment-stimulus": {"_attributes": {
                "identifier": "stimulus-0001"}}}, "createdAt": STAMP, "updatedAt": STAMP}
schema("Stimulus", {**STIM_COMMON, "identifier": STR, "title": STR, "rawXml": STR, "content": CONTENT, **STAMPS},
       ["identifier", "title", "catalogInfo", "rawXml", "content", "createdAt", "updatedAt"],
       "A stimulus as stored and answered.", STIMULUS)
schema("StimulusInput", {**STIM_COMMON, "content": s(description="The stimulus body (HTML)."),
                         "format": enum("json", "xml"), "xml": s(minLength=1), "rawXml": STR},
       ["identifier", "title", "content"], "A stimulus as JSON (`content` is its HTML body).",
       {"identifier": "stimulus-0001", "title": "Passage", "content": "<p>Read this.</p>", "language": "en"})
FEEDBACK = {"id": "fb-0001", "questionId": "item-0001", "userId": "user-0001", "feedback": "Too hard",
            "type": "LESSON", "lessonId": "lesson-0001", "humanApproved": False, "createdAt": STAMP,
            "updatedAt": STAMP}
FEEDBACK_PROPS = {"questionId": STR, "userId": NONEMPTY, "feedback": s(minLength=1), "lessonId": NONEMPTY,
                  "humanApproved": BOOL}
schema("Feedback", {"id": STR, **FEEDBACK_PROPS, "type": enum("QUESTION", "LESSON"), **STAMPS},
       ["id", "userId", "feedback", "type", "lessonId"], "Lesson or question feedback.", FEEDBACK)
schema("LessonFeedback", {**SCHEMAS["Feedback"]["properties"], "items": arr(sref("Feedback"))},
       ["id", "userId", "feedback", "type", "lessonId", "items"],
       "The lesson's newest feedback, with all of its feedback under `items`.", {**FEEDBACK, "items": [FEEDBACK]})
schema("FeedbackInput", FEEDBACK_PROPS, ["userId", "feedback", "lessonId"], "New feedback.",
       {"userId": "user-0001", "feedback": "Too hard", "lessonId": "lesson-0001", "questionId": "item-0001"},
       additionalProperties=False)
KIND = enum("test", "item", "stimulus")
schema("ValidateInput", {"xml": s(maxLength=1 << 20), "schema": KIND, "entityId": STR}, ["schema"],
       "A document to check (or `entityId`: the stored item, test or stimulus).",
       {"xml": ITEM_XML, "schema": "item", "entityId": "item-0001"})
RESULT = {"success": True, "entityId": "item-0001", "xmlContent": ITEM_XML, "validationErrors": [],
          "message": "The XML is valid"}
schema("ValidationResult", {"success": BOOL, "entityId": STR, "xmlContent": STR, "validationErrors": arr(STR),
                            "message": STR},
       ["success", "entityId", "xmlContent", "validationErrors", "message"],
       "Each error reads `line N: [rule] message`.", RESULT)
schema("ValidateBatchInput", {"xml": arr(s(maxLength=1 << 20), maxItems=100), "schema": KIND,
                              "entityIds": arr(STR, maxItems=100)}, ["xml", "schema", "entityIds"],
       "Documents to check, one entity id each.", {"xml": [ITEM_XML], "schema": "item", "entityIds": ["item-0001"]})
schema("BatchValidationResult", {"results": arr(sref("ValidationResult"))}, ["results"], "One result per document.",
       {"results": [RESULT]})
SCHEMAS["QtiError"] = obj({"error": STR, "details": STR}, ["error", "details"],
                          description="Timeback's QTI error envelope.",
                          example={"error": "assessment item 'x' not found", "details": "Not Found"})


def listing(name: str, entity: str, example: Any) -> None:
    schema(name, {"items": arr(sref(entity)), "total": s("integer", minimum=0), "page": s("integer", minimum=1),
                  "pages": s("integer", minimum=0), "limit": s("integer", minimum=1), "sort": STR,
                  "order": enum("asc", "desc")}, ["items", "total", "page", "pages", "limit", "sort", "order"],
           f"A page of {entity} records.", {"items": [example], "total": 1, "page": 1, "pages": 1, "limit": 10,
                                            "sort": "createdAt", "order": "desc"})


listing("ItemList", "AssessmentItem", ITEM)
listing("TestList", "AssessmentTest", TEST)
listing("StimulusList", "Stimulus", STIMULUS)
listing("TestPartList", "TestPart", PART)
listing("SectionList", "Section", SECTION)

# ----------------------------------------------------------------------------------------------
# Errors, parameters, security
# ----------------------------------------------------------------------------------------------

ERRORS = {  # status: (component name, description)
    "400": ("BadRequest", "The request is malformed (parameter, JSON or XML)."),
    "401": ("Unauthorized", "Missing, expired or invalid bearer token."),
    "403": ("Forbidden", "The token lacks the scope this operation needs."),
    "404": ("NotFound", "The record (or a record named in the path) does not exist."),
    "409": ("Conflict", "The identifier is taken, or the item is referenced by a test."),
    "413": ("PayloadTooLarge", "The request body is too large."),
    "415": ("UnsupportedMediaType", "The request body's media type is not accepted here."),
    "422": ("UnprocessableEntity", "The body is well-formed but does not fit the record it names."),
    "429": ("TooManyRequests", "Rate limited; retry after `Retry-After` seconds."),
    "500": ("InternalServerError", "Unexpected server failure."),
}
for _status, (_name, _desc) in ERRORS.items():
    LIB["responses"][_name] = {"description": _desc, "content": {"application/json": {
        "schema": sref("QtiError"), "example": {"error": _desc, "details": _name}}}}
LIB["securitySchemes"]["OAuth2"] = {
    "type": "oauth2", "description": "OAuth 2.0 client credentials; the token carries the granted scopes.",
    "flows": {"clientCredentials": {"tokenUrl": "/oauth2/token", "scopes": {
        SCOPE + "readonly": "Read QTI content", SCOPE + "createput": "Create and update QTI content",
        SCOPE + "delete": "Delete QTI content"}}}}
RIGHTS = {"get": "readonly", "post": "createput", "put": "createput", "delete": "delete"}


def query(name: str, description: str, kind: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": kind}


def list_params(sorts: list[str], filter_on: str | None = None) -> tuple[dict[str, Any], ...]:
    params = [query("query", "Text searched in title and identifier (case-insensitive).", s(maxLength=256)),
              query("page", "Page number, 1-based.", s("integer", minimum=1, maximum=1 << 31, default=1)),
              query("limit", "Page size.", s("integer", minimum=1, maximum=3000, default=10)),
              query("sort", "Field to sort by.", enum(*sorts, default="createdAt")),
              query("order", "Sort order.", enum("asc", "desc", default="desc"))]
    if filter_on:
        paths = field_paths(SCHEMAS[filter_on], lambda n: SCHEMAS[n["$ref"].rsplit("/", 1)[1]]
                            if isinstance(n, dict) and "$ref" in n else n)
        names = [p for p in paths if "-" not in p and not p.startswith(("content", "rawXml"))]
        params.append(query("filter", "Filter expression, e.g. `type='choice'` (operators = != ~ > >= < <= @; "
                                      "joined by AND / OR).",
                            s(maxLength=1024, pattern=filter_pattern(names))))
    return tuple(params)


# ----------------------------------------------------------------------------------------------
# Operations
# ----------------------------------------------------------------------------------------------


@dataclass
class Op:
    method: str
    path: str
    operation_id: str
    summary: str
    ok: tuple[str, str | None]
    behaviour: str | None = None
    binding: dict[str, Any] | None = None
    body: str | None = None
    xml_body: str | None = None  # schema of an accepted application/xml body
    xml_member: bool = False  # x-tb-xml-member: a JSON body's `xml` member is parsed as XML
    params: tuple[dict[str, Any], ...] = ()
    errors: tuple[str, ...] = ()
    tag: str = ""
    description: str = ""
    reads: bool = False  # a POST that only reads (scoring, validation): readonly suffices
    guarded: dict[str, Any] | None = None  # a binding the behaviour runs after its own checks


MODES = (query("navigationMode", "Only tests (parts) with a part of this navigation mode.",
               enum("linear", "nonlinear")),
         query("submissionMode", "Only tests (parts) with a part of this submission mode.",
               enum("individual", "simultaneous")))


def crud(collection: str, base: str, noun: str, sorts: list[str], filter_on: str | None, listed: str,
         entity: str, body: str, tag: str, xml_member: bool, equals: dict[str, str] | None = None,
         extra: tuple[dict[str, Any], ...] = ()) -> list[Op]:
    """The plain CRUD of an identifier-keyed, hard-deleted collection."""
    one = f"{base}/{{identifier}}"
    cap = noun[0].upper() + noun[1:].replace(" ", "")
    listing = {"collection": collection, "action": "list", "paging": "pages", "responseKeys": ["items"]}
    if equals:
        listing["params"] = equals
    return [
        Op("get", base, f"search{cap}s", f"Search and filter {noun}s", ("200", listed), binding=listing,
           params=(*list_params(sorts, filter_on), *extra), tag=tag),
        Op("post", base, f"create{cap}", f"Create a {noun}", ("201", entity),
           binding={"collection": collection, "action": "create", "bodyKey": "$", "respond": "entity"},
           body=body, errors=("409",), tag=tag, xml_member=xml_member),
        Op("get", one, f"get{cap}", f"Get a {noun}", ("200", entity),
           binding={"collection": collection, "action": "get", "id": "identifier", "responseKeys": ["$"]}, tag=tag),
        Op("put", one, f"update{cap}", f"Replace a {noun}", ("200", entity),
           binding={"collection": collection, "action": "update", "id": "identifier", "bodyKey": "$",
                    "replace": True, "respond": "entity"}, body=body, tag=tag, xml_member=xml_member,
           errors=("422",), description="The path names the record: XML naming another identifier is 422."),
    ]


ITEM_SORTS = ["title", "identifier", "type", "createdAt", "updatedAt"]
TEST_SORTS = ["title", "identifier", "createdAt", "updatedAt"]
ITEMS = "/assessment-items"
TESTS = "/assessment-tests"
PARTS = TESTS + "/{assessmentTestIdentifier}/test-parts"
SECTIONS = PARTS + "/{testPartIdentifier}/sections"
SECTION_ONE = SECTIONS + "/{identifier}"
NESTED = ("part", "section")
OPS: list[Op] = [
    *crud("assessmentItems", ITEMS, "assessment item", ITEM_SORTS, "AssessmentItem", "ItemList", "AssessmentItem",
          "AssessmentItemInput", "items", True),
    Op("post", ITEMS + "/metadata", "createAssessmentItemFromMetadata", "Create an item from structured JSON",
       ("201", "AssessmentItem"), binding={"collection": "assessmentItems", "action": "create", "bodyKey": "$",
                                           "respond": "entity"},
       body="AssessmentItemInput", errors=("409",), tag="items", xml_member=True,
       description="What the 0.4.0 client's create_from_metadata calls: the same create as POST /assessment-items."),
    Op("delete", ITEMS + "/{identifier}", "deleteAssessmentItem", "Delete an assessment item", ("204", None),
       "qti.items.delete", errors=("409",), tag="items", guarded={"collection": "assessmentItems",
                                                                  "action": "delete", "id": "identifier"},
       description="Refused (409, naming the tests) while a test references the item."),
    Op("post", ITEMS + "/{identifier}/process-response", "processResponse", "Score a response",
       ("200", "ProcessResponseResult"), "qti.items.process-response", body="ProcessResponseInput", tag="items",
       reads=True, errors=("422",),
       description="Runs the item's response processing (templates or custom) on the response. `identifier` names "
                   "a response declaration, or is the item's own identifier (what the 0.4.0 client sends: the "
                   "response goes to the item's response, one value per response for several). 422 when the "
                   "response does not fit its declaration (cardinality, base type) or the identifier is neither; "
                   "also 422 when the stored item's processing cannot be run."),
    *crud("assessmentTests", TESTS, "assessment test", TEST_SORTS, "AssessmentTest", "TestList", "AssessmentTest",
          "AssessmentTestInput", "tests", False, extra=MODES,
          equals={"navigationMode": "qti-test-part.navigationMode", "submissionMode": "qti-test-part.submissionMode"}),
    Op("delete", TESTS + "/{identifier}", "deleteAssessmentTest", "Delete an assessment test", ("204", None),
       binding={"collection": "assessmentTests", "action": "delete", "id": "identifier"}, tag="tests"),
    Op("put", TESTS + "/{identifier}/metadata", "updateAssessmentTestMetadata", "Update a test's metadata",
       ("200", "AssessmentTest"), binding={"collection": "assessmentTests", "action": "patch", "id": "identifier",
                                           "bodyKey": "$", "respond": "entity"}, body="TestMetadataInput",
       tag="tests"),
    Op("get", TESTS + "/{identifier}/questions", "getAssessmentTestQuestions", "The test's items in order",
       ("200", "QuestionsAnswer"), "qti.tests.questions", tag="tests",
       description="References whose item is not stored are left out (totalQuestions counts the ones listed)."),
    Op("get", PARTS, "searchTestParts", "List a test's parts", ("200", "TestPartList"), "qti.parts.list",
       params=(*list_params(["identifier", "navigationMode", "submissionMode", "createdAt"]), *MODES),
       tag="test-parts"),
    Op("post", PARTS, "createTestPart", "Add a test part (at the end)", ("201", "TestPart"), "qti.parts.create",
       body="TestPartInput", errors=("409",), tag="test-parts"),
    Op("get", PARTS + "/{identifier}", "getTestPart", "Get a test part", ("200", "TestPart"), "qti.parts.get",
       tag="test-parts"),
    Op("put", PARTS + "/{identifier}", "updateTestPart", "Replace a test part (same position)", ("200", "TestPart"),
       "qti.parts.update", body="TestPartInput", tag="test-parts"),
    Op("delete", PARTS + "/{identifier}", "deleteTestPart", "Delete a test part", ("204", None), "qti.parts.delete",
       tag="test-parts"),
    Op("get", SECTIONS, "searchSections", "List a part's sections", ("200", "SectionList"), "qti.sections.list",
       params=list_params(["identifier", "title", "sequence", "createdAt"]), tag="sections"),
    Op("post", SECTIONS, "createSection", "Add a section (at `sequence`, else at the end)", ("201", "Section"),
       "qti.sections.create", body="SectionInput", errors=("409",), tag="sections"),
    Op("get", SECTION_ONE, "getSection", "Get a section", ("200", "Section"), "qti.sections.get", tag="sections"),
    Op("put", SECTION_ONE, "updateSection", "Replace a section (same position)", ("200", "Section"),
       "qti.sections.update", body="SectionInput", tag="sections"),
    Op("delete", SECTION_ONE, "deleteSection", "Delete a section and its item references", ("200", "Message"),
       "qti.sections.delete", tag="sections"),
    Op("post", SECTION_ONE + "/items", "addItemRef", "Add an item reference (at `sequence`, else at the end)",
       ("201", "Section"), "qti.items-refs.add", body="ItemRefInput", errors=("409",), tag="sections"),
    Op("put", SECTION_ONE + "/items/order", "reorderItemRefs", "Reorder the section's item references",
       ("200", "Section"), "qti.items-refs.order", body="ReorderInput", tag="sections",
       description="`items` must name exactly the section's references (400 otherwise)."),
    Op("delete", SECTION_ONE + "/items/{itemIdentifier}", "removeItemRef", "Remove an item reference",
       ("204", None), "qti.items-refs.remove", tag="sections"),
    Op("post", "/lesson", "createLessonFeedback", "Create lesson feedback", ("201", "Feedback"),
       binding={"collection": "feedback", "action": "create", "bodyKey": "$", "respond": "entity",
                "defaults": {"type": "LESSON"}}, body="FeedbackInput", tag="feedback"),
    Op("post", "/question", "createQuestionFeedback", "Create question feedback", ("201", "Feedback"),
       binding={"collection": "feedback", "action": "create", "bodyKey": "$", "respond": "entity",
                "defaults": {"type": "QUESTION"}}, body="FeedbackInput", tag="feedback"),
    Op("get", "/lesson/{lessonId}", "getLessonFeedback", "A lesson's feedback", ("200", "LessonFeedback"),
       "qti.lesson.get", tag="feedback", description="404 when the lesson has no feedback."),
    Op("delete", "/{id}", "deleteFeedback", "Delete feedback", ("200", "Message"),
       binding={"collection": "feedback", "action": "delete", "id": "id", "respond": {"message": "Feedback deleted"}},
       tag="feedback"),
    *crud("stimuli", "/stimuli", "stimulus", TEST_SORTS, None, "StimulusList", "Stimulus", "StimulusInput",
          "stimuli", True),
    Op("delete", "/stimuli/{identifier}", "deleteStimulus", "Delete a stimulus", ("204", None),
       binding={"collection": "stimuli", "action": "delete", "id": "identifier"}, tag="stimuli"),
    Op("post", "/validate", "validateXml", "Check a QTI XML document", ("200", "ValidationResult"), "qti.validate",
       body="ValidateInput", tag="validate", reads=True, errors=("404",),
       description="Checks the given `xml`, or the stored `entityId` of the `schema` kind when `xml` is absent "
                   "(404 when there is neither). Answers 200 with the problems either way."),
    Op("post", "/validate/batch", "validateXmlBatch", "Check several QTI XML documents",
       ("200", "BatchValidationResult"), "qti.validate-batch", body="ValidateBatchInput", tag="validate",
       reads=True, description="One result per document; entityIds pair up with the documents by position."),
]
for _op in OPS:  # tests also take XML bodies (Timeback documents application/xml on POST/PUT tests)
    if _op.path in (TESTS, TESTS + "/{identifier}") and _op.method in ("post", "put"):
        _op.xml_body = "AssessmentTestXml"

COLLECTIONS = {
    name: {"schema": entity, "key": "identifier", "delete": "hard", "search": ["title", "identifier"],
           "stamps": {"created": "createdAt", "modified": "updatedAt"}, **extra}
    for name, entity, extra in (("assessmentItems", "AssessmentItem", {"indexed": ["type"]}),
                                ("assessmentTests", "AssessmentTest", {}), ("stimuli", "Stimulus", {}))
}
COLLECTIONS["feedback"] = {"schema": "Feedback", "key": "id", "delete": "hard", "indexed": ["lessonId"],
                           "stamps": {"created": "createdAt", "modified": "updatedAt"}}


def difference(topic: str, timeback: str, sandbox: str, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"topic": topic, "timeback": timeback, "oneEdTech": "1EdTech defines QTI 3.0 content, no REST binding.",
            "sandbox": sandbox, "ignore": list(ignore)}


DIFFERENCES = [
    difference("POST /assessment-items/metadata",
               "qti-api.yaml and the docs describe a bulk metadata update (reset humanApproved); the 0.4.0 client's "
               "create_from_metadata posts one structured item and parses the created item.",
               "Serves the client: the same create as POST /assessment-items (JSON or `format: xml`)."),
    difference("delete a referenced item",
               "DELETE /assessment-items/{identifier} deletes the item; tests referencing it keep a dangling "
               "reference ('will need to be updated separately').",
               "Refused with 409 naming the tests that reference it (remove the references first), so a test never "
               "points at a missing item."),
    difference("item type",
               "The type enum has no gap-match; the client types `type` with the same enum.",
               "Items whose first interaction is qti-gap-match-interaction are typed `match`; without any "
               "interaction, `choice`. The interaction itself is kept in rawXml and content."),
    difference("responseProcessing",
               "The structured responseProcessing models match_correct and map_response only.",
               "Answered when the XML's processing is one of those (by template or by the equivalent custom "
               "rules); other processing (map_response_point, custom) is left out of the structured member and "
               "lives in rawXml, where the scoring engine reads it."),
    difference("metadata.grade",
               "The spec types metadata.grade as a string (\"-1\"..\"13\"); the 0.4.0 client as an integer.",
               "Accepts both and stores what is sent (the seed sends integers, which the client parses).",
               ("AssessmentItem.metadata.grade", "<response>.question.metadata.grade")),
    difference("content",
               "content is the XML as a compact object; the schema makes the root's xmlns:xsi, "
               "xsi:schemaLocation (and a test's tool-name, tool-version) required, and lists declarations "
               "and values even when the XML has none.",
               "content mirrors the XML as sent: `_attributes` (the XML's own names, plus `baseType` beside "
               "`base-type` in declarations, as Timeback shows it), `_text`, one member per child element (an "
               "array for repeated ones and for declarations and choices; qti-value as plain strings). Attributes "
               "and elements the XML lacks are not invented; XML the sandbox builds from JSON has them.",
               ("AssessmentItem.content", "AssessmentTest.content", "Stimulus.content",
                "<response>.question.content")),
    difference("GET /lesson/{lessonId}",
               "The spec answers an array of feedback; the 0.4.0 client parses one LessonFeedback object.",
               "Answers the newest feedback of the lesson as the object, with all of them under `items`; 404 when "
               "there is none."),
    difference("DELETE /{id}",
               "A delete at the API root: feedback by id (the client calls it delete_by_id for any entity).",
               "Deletes feedback by its `id` (answer `{message}`); other records have their own DELETE."),
    difference("validation on create",
               "Items created from XML are validated against the QTI XSDs.",
               "XML that is not well-formed (or is hostile: DOCTYPE, entities, too large) is refused with 400 "
               "naming the line; structural problems (undeclared identifiers...) do not block a create: "
               "POST /validate reports them."),
    difference("test parts and sections",
               "Parts, sections and item refs are nested resources of the test.",
               "They live inside the test record, in order; `sequence` is each section's and ref's 1-based position "
               "(a create at `sequence` inserts there). Every change rewrites the test's rawXml and content. One "
               "sent without an identifier (invalid QTI, reported by POST /validate) is named by its position "
               "(`part-N`, `section-N`, `item-ref-N`) so the nested endpoints can address it."),
    difference("scopes",
               "QTI scopes are readonly, createput and delete.",
               "GET needs readonly; POST/PUT createput; DELETE delete; process-response and validate accept "
               "readonly or createput."),
    difference("process-response identifier and errors",
               "The spec calls the body's `identifier` the entity's identifier and documents 200/404/500; the 0.4.0 "
               "client puts the item's identifier there.",
               "Takes either a response declaration's identifier or the item's own (then the response goes to the "
               "item's response; a list with one value per response for an item of several single responses). A "
               "response that does not fit its declaration, or an identifier that is neither, is 422 naming the "
               "problem; an empty response scores as the declaration's default."),
    difference("mounts",
               "The production host serves the API under /api.",
               "Served at the root and under /api (x-tb-mounts)."),
]

# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------


def _security(op: Op) -> list[dict[str, list[str]]]:
    if op.reads:
        return [{"OAuth2": [SCOPE + "readonly"]}, {"OAuth2": [SCOPE + "createput"]}]
    return [{"OAuth2": [SCOPE + RIGHTS[op.method]]}]


def _answer(name: str | None) -> dict[str, Any]:
    if name is None:
        return {"description": "Done (no body)."}
    return {"description": SCHEMAS[name].get("description", ""), "content": {"application/json": {
        "schema": sref(name), "example": SCHEMAS[name]["example"]}}}


def _operation(op: Op) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    out["tags"] = [op.tag]
    out["security"] = _security(op)
    if op.params:
        out["parameters"] = list(op.params)
    if op.body:
        content = {"application/json": {"schema": sref(op.body), "example": SCHEMAS[op.body]["example"]}}
        if op.xml_body:
            content["application/xml"] = {"schema": sref(op.xml_body), "example": XML_EXAMPLES[op.xml_body]}
        out["requestBody"] = {"required": True, "content": content}
    if op.xml_member:
        out["x-tb-xml-member"] = "xml"
    if op.guarded:  # both: the behaviour checks, then runs this binding's generic action
        out["x-tb-binding"] = op.guarded
    return finish_operation(out, path=op.path, ok=(op.ok[0], _answer(op.ok[1])), errors={"400", "401", "403",
                                                                                         "429", "500", *op.errors},
                            has_body=bool(op.body), error_refs=ERRORS, binding=op.binding, behaviour=op.behaviour)


def build_spec() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPS:
        add_operation(paths, op.path, op.method, _operation(op))
    wanted: set[tuple[str, str]] = {("responses", v[0]) for v in ERRORS.values()}
    wanted |= {("securitySchemes", "OAuth2")} | {("schemas", c["schema"]) for c in COLLECTIONS.values()}
    components = components_for(LIB, paths, wanted)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": "QTI 3.0 (Timeback)", "version": "2025-09-timeback",
                 "description": "Timeback's QTI API (assessment items, tests with their parts, sections and item "
                                "references, stimuli, feedback, validation and response processing) as the "
                                "tbconform sandbox serves it. Generated by specs/qti/_generate.py; do not edit by "
                                "hand. Where Timeback's spec and the 0.4.0 official client differ, see "
                                "x-tb-differences."},
        "servers": SERVERS,
        "tags": [{"name": t} for t in sorted({o.tag for o in OPS})],
        "paths": paths,
        "components": components,
        "x-tb-api": "qti",
        "x-tb-error-style": "error-details",
        "x-tb-mounts": ["", "/api"],
        "x-tb-collections": COLLECTIONS,
        "x-tb-differences": DIFFERENCES,
    }


def render() -> str:
    return dump_yaml(build_spec())


def main() -> None:
    (HERE / "qti.yaml").write_text(render(), encoding="utf-8")
    print("wrote specs/qti/qti.yaml")


if __name__ == "__main__":
    main()
