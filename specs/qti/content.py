"""QTI 3.0 XML <-> the records Timeback's QTI API answers (items, tests, stimuli).

The sandbox keeps every item, test and stimulus as Timeback answers it: the structured members
(declarations, response processing, test parts...), the original `rawXml`, and `content`, the XML
as a compact JSON object (`{"qti-assessment-item": {"_attributes": {...}, "qti-item-body": ...}}`,
the shape Timeback's answers show). XML is always the source of truth: a JSON create is first
turned into QTI 3.0 XML (`item_xml_from_json`, `stimulus_xml_from_json`, `test_xml_from_record`)
and the record is then read back from that XML, so a JSON-created item has real `rawXml` and is
scored by the same engine as an uploaded one. Every XML read goes through `specs/xmlsafe.py`.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from lxml import etree

from tbconform.specs.qti.vocabulary import QTI_NS
from tbconform.specs.xmlsafe import XmlRefused, local_name, parse

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = (f"{QTI_NS} https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd")
TEMPLATE_BASE = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"
Record = dict[str, Any]

# interaction element -> Timeback's item `type`. Timeback's enum has no gap-match: such items are
# labelled `match` (x-tb-differences "item type"); the interaction itself stays in rawXml/content.
INTERACTION_TYPES = {
    "qti-choice-interaction": "choice", "qti-text-entry-interaction": "text-entry",
    "qti-extended-text-interaction": "extended-text", "qti-inline-choice-interaction": "inline-choice",
    "qti-match-interaction": "match", "qti-gap-match-interaction": "match", "qti-order-interaction": "order",
    "qti-associate-interaction": "associate", "qti-select-point-interaction": "select-point",
    "qti-graphic-order-interaction": "graphic-order", "qti-graphic-associate-interaction": "graphic-associate",
    "qti-graphic-gap-match-interaction": "graphic-gap-match", "qti-hotspot-interaction": "hotspot",
    "qti-hottext-interaction": "hottext", "qti-slider-interaction": "slider",
    "qti-drawing-interaction": "drawing", "qti-media-interaction": "media", "qti-upload-interaction": "upload",
}
ITEM_TYPES = sorted(set(INTERACTION_TYPES.values()))
# children the compact `content` form always lists (Timeback's answers show them as arrays)
ALWAYS_LISTS = {"qti-response-declaration", "qti-outcome-declaration", "qti-value", "qti-simple-choice",
                "qti-map-entry", "qti-area-map-entry", "qti-assessment-stimulus-ref", "qti-test-part",
                "qti-assessment-section", "qti-assessment-item-ref", "qti-modal-feedback",
                "qti-inline-choice", "qti-simple-associable-choice", "qti-gap-text", "qti-hotspot-choice"}


TEXT_LEAVES = {"qti-value"}
DECLARATIONS = {"qti-response-declaration", "qti-outcome-declaration", "qti-template-declaration",
                "qti-context-declaration"}
TOOL_NAME, TOOL_VERSION = "tbconform-sandbox", "1.0"  # what a JSON-created test's XML names as its tool


class ContentError(ValueError):
    """The document is XML but not the QTI element expected (an item where a test was sent...)."""


# ----------------------------------------------------------------------------------------------
# Generic helpers
# ----------------------------------------------------------------------------------------------


def _root(xml: str | bytes | etree._Element, expected: str) -> etree._Element:
    root = xml if isinstance(xml, etree._Element) else parse(xml)
    if local_name(root) != expected:
        raise ContentError(f"the XML root is <{local_name(root)}>, expected <{expected}>")
    return root


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if local_name(c) == name]


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in el if local_name(c) == name), None)


def _descendants(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el.iter() if local_name(c) == name]


def _bool(value: str | None, default: bool = False) -> bool:
    return default if value is None else value.strip().lower() == "true"


def _number(value: str | None) -> int | float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in value else number


def inner_xml(el: etree._Element) -> str:
    """The element's content as markup (text and children), namespace declarations dropped."""
    parts = [el.text or ""]
    for child in el:
        parts.append(_strip_ns(etree.tostring(child, encoding="unicode", with_tail=True)))
    return "".join(parts).strip()


_NS_DECL = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def _strip_ns(markup: str) -> str:
    return _NS_DECL.sub("", markup)


def _attr_name(name: str) -> str:
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        return f"xsi:{local}" if uri == XSI_NS else ("xml:" + local if uri.endswith("/XML/1998/namespace") else local)
    return name


def compact(el: etree._Element) -> Record:
    """The element as the compact JSON form Timeback's `content` uses (xml-js style)."""
    out: Record = {}
    attrs: Record = {}
    if el.getparent() is None:
        for prefix, uri in (el.nsmap or {}).items():
            attrs["xmlns" if prefix is None else f"xmlns:{prefix}"] = uri
    for name, value in el.attrib.items():
        attrs[_attr_name(name)] = value
    if "base-type" in attrs and local_name(el) in DECLARATIONS:
        attrs["baseType"] = attrs["base-type"]  # Timeback's answers name it so in declarations
    if attrs:
        out["_attributes"] = attrs
    texts = [t.strip() for t in [el.text, *(c.tail for c in el)] if t and t.strip()]
    if texts:
        out["_text"] = " ".join(texts)
    for child in el:
        name = local_name(child)
        if not name:
            continue
        value: Any = compact(child)
        if name in TEXT_LEAVES and set(value) <= {"_text"}:
            value = value.get("_text", "")  # a plain value: `qti-value: ["B"]`, as Timeback shows it
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = [value] if name in ALWAYS_LISTS else value
    return out


def content_of(root: etree._Element) -> Record:
    return {local_name(root): compact(root)}


def _serialize(root: etree._Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="unicode", pretty_print=True)


def _raw_text(xml: str | bytes | etree._Element) -> str:
    if isinstance(xml, etree._Element):
        return _serialize(xml)
    return xml.decode("utf-8") if isinstance(xml, bytes) else xml


# ----------------------------------------------------------------------------------------------
# Items: XML -> record
# ----------------------------------------------------------------------------------------------


def _values(el: etree._Element | None) -> list[str]:
    if el is None:
        return []
    return [(v.text or "").strip() for v in _children(el, "qti-value")]


def _mapping(decl: etree._Element) -> Record | None:
    mapping = _child(decl, "qti-mapping")
    if mapping is None:
        return None
    out: Record = {"defaultValue": _number(mapping.get("default-value")) or 0,
                   "entries": [{"mapKey": e.get("map-key", ""), "mappedValue": _number(e.get("mapped-value")) or 0,
                                "caseSensitive": _bool(e.get("case-sensitive"), True)}
                               for e in _children(mapping, "qti-map-entry")]}
    for attr, key in (("lower-bound", "lowerBound"), ("upper-bound", "upperBound")):
        if mapping.get(attr) is not None:
            out[key] = _number(mapping.get(attr))
    return out


def _declaration(decl: etree._Element, with_correct: bool) -> Record:
    out: Record = {"identifier": decl.get("identifier", ""), "cardinality": decl.get("cardinality", "single")}
    if decl.get("base-type"):
        out["baseType"] = decl.get("base-type")
    if with_correct:
        out["correctResponse"] = {"value": _values(_child(decl, "qti-correct-response"))}
        mapping = _mapping(decl)
        if mapping is not None:
            out["mapping"] = mapping
    else:
        default = _child(decl, "qti-default-value")
        if default is not None:
            out["defaultValue"] = {"value": _values(default)}
    return out


def _set_values(el: etree._Element, outcome: str) -> list[str]:
    """Identifiers a response-if/else branch sets `outcome` to (base values only)."""
    found = []
    for setter in _children(el, "qti-set-outcome-value"):
        if setter.get("identifier") == outcome:
            found += [(b.text or "").strip() for b in _descendants(setter, "qti-base-value")]
    return found


def _response_processing(root: etree._Element, responses: list[Record]) -> Record | None:
    """Timeback's structured `responseProcessing`, when the item's processing is one the client models
    (match_correct or map_response on the first response); None for anything else (kept in rawXml)."""
    rp = _child(root, "qti-response-processing")
    if rp is None or not responses:
        return None
    template = (rp.get("template") or "").rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
    kind = template if template in ("match_correct", "map_response") else None
    if kind is None and not template:
        if _descendants(rp, "qti-map-response"):
            kind = "map_response"
        elif any(_child(m, "qti-correct") is not None for m in _descendants(rp, "qti-match")):
            kind = "match_correct"
    if kind is None:
        return None
    outcome, correct, incorrect = "FEEDBACK", "CORRECT", "INCORRECT"
    condition = _child(rp, "qti-response-condition")
    if condition is not None:
        branch_if, branch_else = _child(condition, "qti-response-if"), _child(condition, "qti-response-else")
        for setter in _children(branch_if, "qti-set-outcome-value") if branch_if is not None else []:
            if setter.get("identifier") not in ("SCORE",):
                outcome = setter.get("identifier", outcome)
                break
        got_if = _set_values(branch_if, outcome) if branch_if is not None else []
        got_else = _set_values(branch_else, outcome) if branch_else is not None else []
        correct = got_if[0] if got_if else correct
        incorrect = got_else[0] if got_else else incorrect
    out: Record = {"templateType": kind, "responseDeclarationIdentifier": responses[0]["identifier"],
                   "outcomeIdentifier": outcome, "correctResponseIdentifier": correct,
                   "incorrectResponseIdentifier": incorrect}
    inline = next((f for f in _descendants(root, "qti-feedback-inline")), None)
    if inline is not None:
        out["inlineFeedback"] = {"outcomeIdentifier": inline.get("outcome-identifier", ""),
                                 "variableIdentifier": responses[0]["identifier"]}
    return out


def _feedback(root: etree._Element, name: str, modal: bool) -> list[Record]:
    out = []
    for el in _descendants(root, name):
        body = _child(el, "qti-content-body")
        entry: Record = {"outcomeIdentifier": el.get("outcome-identifier", ""), "identifier": el.get("identifier", ""),
                         "showHide": el.get("show-hide", "show"),
                         "content": inner_xml(body if body is not None else el)}
        if modal:
            entry["title"] = el.get("title", "")
        else:
            entry["class"] = (el.get("class") or "").split()
        out.append(entry)
    return out


def interactions(root: etree._Element) -> list[etree._Element]:
    """The item's interactions in document order."""
    return [el for el in root.iter() if local_name(el) in INTERACTION_TYPES]


def item_record_from_xml(xml: str | bytes | etree._Element, *, metadata: dict | None = None) -> Record:
    """The stored assessment item (Timeback's AssessmentItem answer, without the store's stamps)."""
    root = _root(xml, "qti-assessment-item")
    found = interactions(root)
    responses = [_declaration(d, True) for d in _children(root, "qti-response-declaration")]
    record: Record = {
        "identifier": root.get("identifier", ""),
        "title": root.get("title", ""),
        "type": INTERACTION_TYPES[local_name(found[0])] if found else "choice",
        "qtiVersion": "3.0",
        "timeDependent": _bool(root.get("time-dependent")),
        "adaptive": _bool(root.get("adaptive")),
        "responseDeclarations": responses,
        "outcomeDeclarations": [_declaration(d, False) for d in _children(root, "qti-outcome-declaration")],
    }
    processing = _response_processing(root, responses)
    if processing is not None:
        record["responseProcessing"] = processing
    record["metadata"] = dict(metadata) if metadata else {}
    record["rawXml"] = _raw_text(xml)
    record["content"] = content_of(root)
    record["modalFeedback"] = _feedback(root, "qti-modal-feedback", True)
    record["feedbackInline"] = _feedback(root, "qti-feedback-inline", False)
    record["feedbackBlock"] = _feedback(root, "qti-feedback-block", False)
    return record


# ----------------------------------------------------------------------------------------------
# Items: structured JSON -> XML
# ----------------------------------------------------------------------------------------------


HTML_TAGS = {"p", "div", "span", "br", "strong", "em", "b", "i", "img", "ul", "ol", "li"}


def _q(tag: str) -> str:
    """A QTI element name: `item-body` is `qti-item-body`; HTML names stay as they are."""
    if not tag.startswith("qti-") and tag not in HTML_TAGS:
        tag = "qti-" + tag
    return f"{{{QTI_NS}}}{tag}"


def _el(parent: etree._Element | None, tag: str, attrs: dict[str, Any] | None = None,
        text: str | None = None) -> etree._Element:
    clean = {k: _attr_text(v) for k, v in (attrs or {}).items() if v is not None}
    el = etree.Element(_q(tag), clean, nsmap={None: QTI_NS}) if parent is None else \
        etree.SubElement(parent, _q(tag), clean)
    if text is not None:
        el.text = xml_text(text)
    return el


_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any) -> str:
    """A JSON value as XML text: characters XML 1.0 cannot hold (controls, lone surrogates) dropped."""
    text = value if isinstance(value, str) else str(value)
    return _NOT_XML.sub("", text)


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_text(value)


def _markup(parent: etree._Element, html: str | None) -> None:
    """Append an HTML/XML fragment (a prompt, a choice's text) as content; plain text if it is not
    well-formed XML on its own."""
    if not html:
        return
    html = xml_text(html)
    try:
        wrapper = parse(f'<div xmlns="{QTI_NS}">{html}</div>'.encode())
    except XmlRefused:
        wrapper = None
    if wrapper is None:
        _append_text(parent, html)
        return
    _append_text(parent, wrapper.text)
    for child in list(wrapper):
        parent.append(child)


def _append_text(parent: etree._Element, text: str | None) -> None:
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _response_xml(root: etree._Element, decl: Record) -> None:
    el = _el(root, "qti-response-declaration", {"identifier": decl.get("identifier"),
                                                "cardinality": decl.get("cardinality", "single"),
                                                "base-type": decl.get("baseType")})
    values = ((decl.get("correctResponse") or {}).get("value")) or []
    if values:
        correct = _el(el, "qti-correct-response")
        for v in values:
            _el(correct, "qti-value", text=str(v))
    mapping = decl.get("mapping")
    if isinstance(mapping, dict):
        m = _el(el, "qti-mapping", {"default-value": mapping.get("defaultValue", 0),
                                    "lower-bound": mapping.get("lowerBound"),
                                    "upper-bound": mapping.get("upperBound")})
        for entry in mapping.get("entries") or []:
            _el(m, "qti-map-entry", {"map-key": entry.get("mapKey"), "mapped-value": entry.get("mappedValue", 0),
                                     "case-sensitive": entry.get("caseSensitive")})


def _outcome_xml(root: etree._Element, decl: Record) -> None:
    el = _el(root, "qti-outcome-declaration", {"identifier": decl.get("identifier"),
                                               "cardinality": decl.get("cardinality", "single"),
                                               "base-type": decl.get("baseType")})
    default = (decl.get("defaultValue") or {}).get("value") if isinstance(decl.get("defaultValue"), dict) else None
    if default not in (None, [], ""):
        d = _el(el, "qti-default-value")
        for v in default if isinstance(default, list) else [default]:
            _el(d, "qti-value", text=str(v))


def _interaction_xml(body: etree._Element, spec: Record, item_type: str) -> None:
    kind = spec.get("type") or item_type
    tag = next((t for t, k in INTERACTION_TYPES.items() if k == kind), "qti-choice-interaction")
    structure = spec.get("questionStructure") or {}
    attrs: Record = {"response-identifier": spec.get("responseIdentifier", "RESPONSE")}
    if spec.get("shuffle") is not None:
        attrs["shuffle"] = spec["shuffle"]
    if spec.get("maxChoices") is not None:
        attrs["max-choices"] = spec["maxChoices"]
    for name, value in (spec.get("attributes") or {}).items():
        if re.fullmatch(r"[a-z][a-z0-9-]*", name) and value is not None:
            attrs[name] = value
    inline = tag in ("qti-text-entry-interaction", "qti-inline-choice-interaction")
    holder = _el(body, "p") if inline else body
    if inline and structure.get("prompt"):
        _markup(holder, structure["prompt"])
        _append_text(holder, " ")
    interaction = _el(holder, tag, attrs)
    if not inline and structure.get("prompt"):
        _markup(_el(interaction, "prompt"), structure["prompt"])
    choice_tag = "inline-choice" if tag == "qti-inline-choice-interaction" else "simple-choice"
    for choice in structure.get("choices") or []:
        c = _el(interaction, choice_tag, {"identifier": choice.get("identifier")})
        _markup(c, choice.get("content"))
        if choice.get("feedbackInline"):
            fb = _el(c, "feedback-inline", {"outcome-identifier": choice.get("feedbackOutcomeIdentifier")
                                            or "FEEDBACK-INLINE", "identifier": choice.get("identifier"),
                                            "show-hide": "show"})
            _markup(fb, choice["feedbackInline"])


def _rp_xml(root: etree._Element, rp: Record, outcomes: set[str]) -> None:
    """Timeback's structured responseProcessing as explicit QTI processing: SCORE from the
    template, the feedback outcome set to the correct/incorrect identifier."""
    response = rp.get("responseDeclarationIdentifier") or "RESPONSE"
    feedback = rp.get("outcomeIdentifier") or "FEEDBACK"
    el = _el(root, "qti-response-processing")
    if rp.get("templateType") == "map_response":
        score = _el(el, "qti-set-outcome-value", {"identifier": "SCORE"})
        _el(score, "qti-map-response", {"identifier": response})
    condition = _el(el, "qti-response-condition")
    for branch, value, points in (("qti-response-if", rp.get("correctResponseIdentifier") or "CORRECT", "1"),
                                  ("qti-response-else", rp.get("incorrectResponseIdentifier") or "INCORRECT", "0")):
        b = _el(condition, branch[4:])
        if branch == "qti-response-if":
            match = _el(b, "match")
            _el(match, "variable", {"identifier": response})
            _el(match, "correct", {"identifier": response})
        if rp.get("templateType") != "map_response" and "SCORE" in outcomes:
            s = _el(b, "set-outcome-value", {"identifier": "SCORE"})
            _el(s, "base-value", {"base-type": "float"}, points)
        if feedback != "SCORE":
            f = _el(b, "set-outcome-value", {"identifier": feedback})
            _el(f, "base-value", {"base-type": "identifier"}, value)


def item_xml_from_json(body: dict) -> str:
    """Timeback's structured item JSON (interaction, declarations, responseProcessing, feedback) as
    QTI 3.0 XML. Missing declarations get the defaults an item needs to be scored: a SCORE float
    outcome, and the feedback outcome the processing sets."""
    root = _el(None, "assessment-item", {})
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    for key, attr in (("identifier", "identifier"), ("title", "title")):
        root.set(attr, _attr_text(body.get(key) or ""))
    root.set("adaptive", _attr_text(bool(body.get("adaptive", False))))
    root.set("time-dependent", _attr_text(bool(body.get("timeDependent", False))))
    responses = [d for d in body.get("responseDeclarations") or [] if isinstance(d, dict)]
    interaction = body.get("interaction") if isinstance(body.get("interaction"), dict) else None
    if not responses and interaction:
        responses = [{"identifier": interaction.get("responseIdentifier", "RESPONSE"), "cardinality": "single",
                      "baseType": "identifier", "correctResponse": {"value": []}}]
    for decl in responses:
        _response_xml(root, decl)
    outcomes = [d for d in body.get("outcomeDeclarations") or [] if isinstance(d, dict)]
    names = {d.get("identifier") for d in outcomes}
    rp = body.get("responseProcessing") if isinstance(body.get("responseProcessing"), dict) else None
    wanted = [("SCORE", "float")]
    if rp:
        wanted.append((rp.get("outcomeIdentifier") or "FEEDBACK", "identifier"))
    for feedback_list in ("modalFeedback", "feedbackInline", "feedbackBlock"):
        wanted += [(f.get("outcomeIdentifier"), "identifier") for f in body.get(feedback_list) or []
                   if isinstance(f, dict) and f.get("outcomeIdentifier")]
    for choice in ((interaction or {}).get("questionStructure") or {}).get("choices") or []:
        if isinstance(choice, dict) and choice.get("feedbackInline"):
            wanted.append((choice.get("feedbackOutcomeIdentifier") or "FEEDBACK-INLINE", "identifier"))
    for name, base in wanted:
        if name and name not in names:
            outcomes.append({"identifier": name, "cardinality": "single", "baseType": base})
            names.add(name)
    for decl in outcomes:
        _outcome_xml(root, decl)
    stimulus = body.get("stimulus")
    if isinstance(stimulus, dict) and stimulus.get("identifier"):
        _el(root, "assessment-stimulus-ref", {"identifier": stimulus["identifier"],
                                              "href": stimulus.get("href") or f"stimuli/{stimulus['identifier']}",
                                              "title": stimulus.get("title")})
    item_body = _el(root, "item-body")
    for rubric in body.get("rubrics") or []:
        if isinstance(rubric, dict):
            block = _el(item_body, "rubric-block", {"use": rubric.get("use"), "view": rubric.get("view")})
            _markup(_el(block, "content-body"), rubric.get("body"))
    _markup(item_body, body.get("preInteraction"))
    if interaction:
        _interaction_xml(item_body, interaction, str(body.get("type") or "choice"))
    _markup(item_body, body.get("postInteraction"))
    for fb in body.get("feedbackInline") or []:
        if isinstance(fb, dict):
            holder = _el(item_body, "p")
            el = _el(holder, "feedback-inline", {"outcome-identifier": fb.get("outcomeIdentifier"),
                                                 "identifier": fb.get("identifier"), "show-hide": fb.get("showHide"),
                                                 "class": " ".join(fb.get("class") or []) or None})
            _markup(el, fb.get("content"))
    for fb in body.get("feedbackBlock") or []:
        if isinstance(fb, dict):
            el = _el(item_body, "feedback-block", {"outcome-identifier": fb.get("outcomeIdentifier"),
                                                   "identifier": fb.get("identifier"), "show-hide": fb.get("showHide"),
                                                   "class": " ".join(fb.get("class") or []) or None})
            _markup(_el(el, "content-body"), fb.get("content"))
    if rp:
        _rp_xml(root, rp, names)
    elif responses and any((d.get("correctResponse") or {}).get("value") for d in responses):
        _el(root, "response-processing", {"template": TEMPLATE_BASE + "match_correct"})
    for fb in body.get("modalFeedback") or []:
        if isinstance(fb, dict):
            el = _el(root, "modal-feedback", {"outcome-identifier": fb.get("outcomeIdentifier"),
                                              "identifier": fb.get("identifier"), "show-hide": fb.get("showHide"),
                                              "title": fb.get("title")})
            _markup(_el(el, "content-body"), fb.get("content"))
    return _serialize(root)


# ----------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------


def _item_ref(el: etree._Element, position: int) -> Record:
    out: Record = {"identifier": el.get("identifier", ""), "href": el.get("href", ""), "sequence": position}
    for attr in ("required", "fixed"):
        if el.get(attr) is not None:
            out[attr] = _bool(el.get(attr))
    if el.get("category"):
        out["category"] = el.get("category", "").split()
    return out


def _section(el: etree._Element, position: int) -> Record:
    out: Record = {"identifier": el.get("identifier", ""), "title": el.get("title", ""),
                   "visible": _bool(el.get("visible"), True), "sequence": position}
    for attr in ("required", "fixed"):
        if el.get(attr) is not None:
            out[attr] = _bool(el.get(attr))
    out["qti-assessment-item-ref"] = [_item_ref(r, i) for i, r in
                                      enumerate(_children(el, "qti-assessment-item-ref"), 1)]
    nested = _children(el, "qti-assessment-section")
    if nested:
        out["qti-assessment-section"] = [_section(s, i) for i, s in enumerate(nested, 1)]
    return out


def _test_part(el: etree._Element) -> Record:
    return {"identifier": el.get("identifier", ""), "navigationMode": el.get("navigation-mode", "linear"),
            "submissionMode": el.get("submission-mode", "individual"),
            "qti-assessment-section": [_section(s, i) for i, s in
                                       enumerate(_children(el, "qti-assessment-section"), 1)]}


def _test_outcome(el: etree._Element) -> Record:
    out: Record = {"identifier": el.get("identifier", ""), "cardinality": el.get("cardinality", "single"),
                   "baseType": el.get("base-type", "float")}
    for attr, key in (("normal-maximum", "normalMaximum"), ("normal-minimum", "normalMinimum")):
        if el.get(attr) is not None:
            out[key] = _number(el.get(attr))
    default = _child(el, "qti-default-value")
    if default is not None:
        values = _values(default)
        out["defaultValue"] = {"value": _number(values[0]) if len(values) == 1 and _number(values[0]) is not None
                               else (values[0] if len(values) == 1 else values)}
    return out


def test_record_from_xml(xml: str | bytes | etree._Element) -> Record:
    """The stored assessment test: parts, sections and item refs in document order."""
    root = _root(xml, "qti-assessment-test")
    record: Record = {"identifier": root.get("identifier", ""), "title": root.get("title", ""), "qtiVersion": "3.0"}
    for attr, key in (("tool-name", "toolName"), ("tool-version", "toolVersion")):
        if root.get(attr):
            record[key] = root.get(attr)
    limits = _child(root, "qti-time-limits")
    if limits is not None and _number(limits.get("max-time")) is not None:
        record["timeLimit"] = _number(limits.get("max-time"))
    record["qti-test-part"] = [_test_part(p) for p in _children(root, "qti-test-part")]
    record["qti-outcome-declaration"] = [_test_outcome(o) for o in _children(root, "qti-outcome-declaration")]
    renumber(record)
    record["rawXml"] = _raw_text(xml)
    record["content"] = content_of(root)
    record["isValidXml"] = True
    return record


def _section_xml(parent: etree._Element, section: Record) -> None:
    el = _el(parent, "assessment-section", {"identifier": section.get("identifier"), "title": section.get("title", ""),
                                            "visible": section.get("visible", True),
                                            "required": section.get("required"), "fixed": section.get("fixed")})
    for ref in section.get("qti-assessment-item-ref") or []:
        if isinstance(ref, dict):
            _el(el, "assessment-item-ref", {"identifier": ref.get("identifier"), "href": ref.get("href"),
                                            "required": ref.get("required"), "fixed": ref.get("fixed"),
                                            "category": " ".join(ref.get("category") or []) or None})
    for nested in section.get("qti-assessment-section") or []:
        if isinstance(nested, dict):
            _section_xml(el, nested)


def test_xml_from_record(record: dict) -> str:
    """A test record (or Timeback's test JSON) as QTI 3.0 XML, parts, sections and refs in order."""
    root = _el(None, "assessment-test", {})
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    root.set("identifier", _attr_text(record.get("identifier") or ""))
    root.set("title", _attr_text(record.get("title") or ""))
    root.set("tool-name", _attr_text(record.get("toolName") or TOOL_NAME))
    root.set("tool-version", _attr_text(record.get("toolVersion") or TOOL_VERSION))
    for decl in record.get("qti-outcome-declaration") or []:
        if isinstance(decl, dict):
            el = _el(root, "outcome-declaration", {"identifier": decl.get("identifier"),
                                                   "cardinality": decl.get("cardinality") or "single",
                                                   "base-type": decl.get("baseType"),
                                                   "normal-maximum": decl.get("normalMaximum"),
                                                   "normal-minimum": decl.get("normalMinimum")})
            default = decl.get("defaultValue")
            if isinstance(default, dict) and default.get("value") is not None:
                d = _el(el, "default-value")
                for v in default["value"] if isinstance(default["value"], list) else [default["value"]]:
                    _el(d, "value", text=str(v))
    if record.get("timeLimit") is not None:
        _el(root, "time-limits", {"max-time": record["timeLimit"]})
    for part in record.get("qti-test-part") or []:
        if isinstance(part, dict):
            el = _el(root, "test-part", {"identifier": part.get("identifier"),
                                         "navigation-mode": part.get("navigationMode") or "linear",
                                         "submission-mode": part.get("submissionMode") or "individual"})
            for section in part.get("qti-assessment-section") or []:
                if isinstance(section, dict):
                    _section_xml(el, section)
    return _serialize(root)


def renumber(record: Record) -> Record:
    """Sections and item refs carry their 1-based position as `sequence` (kept after every edit).

    A part, section or reference without an identifier (invalid QTI, which POST /validate reports)
    is named by its position (`part-2`, `section-1`, `item-ref-3`), so that the nested endpoints
    can still address it; the stored rawXml stays as sent."""
    def walk(sections: Iterable[Record]) -> None:
        for i, section in enumerate(sections, 1):
            section["sequence"] = i
            if not section.get("identifier"):
                section["identifier"] = f"section-{i}"
            for j, ref in enumerate(section.get("qti-assessment-item-ref") or [], 1):
                ref["sequence"] = j
                if not ref.get("identifier"):
                    ref["identifier"] = f"item-ref-{j}"
            walk(section.get("qti-assessment-section") or [])
    for n, part in enumerate(record.get("qti-test-part") or [], 1):
        if not part.get("identifier"):
            part["identifier"] = f"part-{n}"
        walk(part.get("qti-assessment-section") or [])
    return record


def test_record_from_json(body: dict) -> Record:
    """A JSON-created test: its structure kept as sent (order included), rawXml and content built."""
    keep = {k: v for k, v in body.items() if k not in ("rawXml", "content", "isValidXml", "createdAt", "updatedAt")}
    xml = test_xml_from_record(keep)
    record = test_record_from_xml(xml)
    for key in ("timeLimit", "maxAttempts", "toolsEnabled", "metadata", "toolName", "toolVersion"):
        if key in keep:
            record[key] = keep[key]
    record["qti-test-part"] = [p for p in keep.get("qti-test-part") or [] if isinstance(p, dict)]
    if "qti-outcome-declaration" in keep:
        record["qti-outcome-declaration"] = keep["qti-outcome-declaration"]
    return renumber(record)


# ----------------------------------------------------------------------------------------------
# Stimuli
# ----------------------------------------------------------------------------------------------


def stimulus_record_from_xml(xml: str | bytes | etree._Element) -> Record:
    """The stored stimulus (Timeback's Stimulus answer, without the store's stamps)."""
    root = _root(xml, "qti-assessment-stimulus")
    record: Record = {"identifier": root.get("identifier", ""), "title": root.get("title", ""), "catalogInfo": []}
    lang = root.get("{http://www.w3.org/XML/1998/namespace}lang") or root.get("language")
    if lang:
        record["language"] = lang
    for attr, key in (("label", "label"), ("tool-name", "toolName"), ("tool-version", "toolVersion")):
        if root.get(attr):
            record[key] = root.get(attr)
    sheet = _child(root, "qti-stylesheet")
    if sheet is not None:
        record["stylesheet"] = {"href": sheet.get("href", ""), "type": sheet.get("type", "text/css")}
    info = _child(root, "qti-catalog-info")
    if info is not None:
        record["catalogInfo"] = [{"id": c.get("id", ""), "support": _card_support(c),
                                  "content": _card_text(c)}
                                 for c in _children(info, "qti-catalog")]
    record["rawXml"] = _raw_text(xml)
    record["content"] = content_of(root)
    return record


def _card_support(catalog: etree._Element) -> str:
    card = _child(catalog, "qti-card")
    return (card.get("support") if card is not None else None) or catalog.get("support", "")


def _card_text(catalog: etree._Element) -> str:
    card = _child(catalog, "qti-card")
    return inner_xml(card if card is not None else catalog)


def stimulus_xml_from_json(body: dict) -> str:
    """Timeback's stimulus JSON (`content` is the HTML body) as QTI 3.0 XML."""
    root = _el(None, "assessment-stimulus", {})
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    root.set("identifier", _attr_text(body.get("identifier") or ""))
    root.set("title", _attr_text(body.get("title") or ""))
    if body.get("language"):
        root.set("{http://www.w3.org/XML/1998/namespace}lang", _attr_text(body["language"]))
    for key, attr in (("label", "label"), ("toolName", "tool-name"), ("toolVersion", "tool-version")):
        if body.get(key):
            root.set(attr, _attr_text(body[key]))
    sheet = body.get("stylesheet")
    if isinstance(sheet, dict) and sheet.get("href"):
        _el(root, "stylesheet", {"href": sheet["href"], "type": sheet.get("type") or "text/css"})
    _markup(_el(root, "stimulus-body"), body.get("content") if isinstance(body.get("content"), str) else "")
    catalog = [c for c in body.get("catalogInfo") or [] if isinstance(c, dict)]
    if catalog:
        info = _el(root, "catalog-info")
        for entry in catalog:
            c = _el(info, "catalog", {"id": entry.get("id")})
            _markup(_el(c, "card", {"support": entry.get("support")}), entry.get("content"))
    return _serialize(root)


def stimulus_record_from_json(body: dict) -> Record:
    record = stimulus_record_from_xml(stimulus_xml_from_json(body))
    for key in ("catalogInfo", "metadata", "stylesheet"):
        if body.get(key) is not None:
            record[key] = body[key]
    return record
