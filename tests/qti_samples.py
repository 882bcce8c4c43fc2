"""Hand-written valid QTI 3.0 documents, one per interaction type, for the structure and CLI tests.

Each is written from the QTI 3.0 information model (not copied from any example set): the
declarations first, then the body, then response processing, as QTI orders them.
"""
from __future__ import annotations

NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
RPT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"


def item(identifier: str, declarations: str, body: str, processing: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<qti-assessment-item xmlns="{NS}" identifier="{identifier}" title="{identifier}" '
            f'adaptive="false" time-dependent="false">\n'
            f"{declarations.strip()}\n"
            f"  <qti-item-body>\n{body.strip()}\n  </qti-item-body>\n"
            f"{processing.strip()}\n"
            f"</qti-assessment-item>\n")


SCORE = '  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>'


def template(name: str) -> str:
    return f'  <qti-response-processing template="{RPT}{name}"/>'


CHOICE = item("choice", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>B</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-prompt>Which is a prime?</qti-prompt>
      <qti-simple-choice identifier="A">4</qti-simple-choice>
      <qti-simple-choice identifier="B">5</qti-simple-choice>
      <qti-simple-choice identifier="C">6</qti-simple-choice>
    </qti-choice-interaction>""", template("match_correct"))

MULTIPLE_CHOICE = item("multi", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier">
    <qti-correct-response><qti-value>A</qti-value><qti-value>C</qti-value></qti-correct-response>
    <qti-mapping lower-bound="0" upper-bound="2" default-value="0">
      <qti-map-entry map-key="A" mapped-value="1"/>
      <qti-map-entry map-key="B" mapped-value="-1"/>
      <qti-map-entry map-key="C" mapped-value="1"/>
    </qti-mapping>
  </qti-response-declaration>
{SCORE}""", """
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="0">
      <qti-simple-choice identifier="A">2</qti-simple-choice>
      <qti-simple-choice identifier="B">9</qti-simple-choice>
      <qti-simple-choice identifier="C">11</qti-simple-choice>
    </qti-choice-interaction>""", template("map_response"))

TEXT_ENTRY = item("text", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string">
    <qti-correct-response><qti-value>Paris</qti-value></qti-correct-response>
    <qti-mapping default-value="0">
      <qti-map-entry map-key="Paris" mapped-value="1" case-sensitive="false"/>
      <qti-map-entry map-key="Lutetia" mapped-value="0.5" case-sensitive="false"/>
    </qti-mapping>
  </qti-response-declaration>
  <qti-response-declaration identifier="YEAR" cardinality="single" base-type="integer">
    <qti-correct-response><qti-value>1889</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <p>The capital of France is <qti-text-entry-interaction response-identifier="RESPONSE" expected-length="10"/>;
       the tower was finished in <qti-text-entry-interaction response-identifier="YEAR"/>.</p>""",
                  template("map_response"))

EXTENDED_TEXT = item("essay", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
{SCORE}""", """
    <qti-extended-text-interaction response-identifier="RESPONSE" expected-lines="8">
      <qti-prompt>Describe the water cycle.</qti-prompt>
    </qti-extended-text-interaction>""")

ORDER = item("order", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="ordered" base-type="identifier">
    <qti-correct-response>
      <qti-value>S1</qti-value><qti-value>S2</qti-value><qti-value>S3</qti-value>
    </qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <qti-order-interaction response-identifier="RESPONSE">
      <qti-simple-choice identifier="S2">Bronze age</qti-simple-choice>
      <qti-simple-choice identifier="S1">Stone age</qti-simple-choice>
      <qti-simple-choice identifier="S3">Iron age</qti-simple-choice>
    </qti-order-interaction>""", template("match_correct"))

MATCH = item("match", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="directedPair">
    <qti-correct-response><qti-value>FR PAR</qti-value><qti-value>IT ROM</qti-value></qti-correct-response>
    <qti-mapping default-value="0">
      <qti-map-entry map-key="FR PAR" mapped-value="1"/>
      <qti-map-entry map-key="IT ROM" mapped-value="1"/>
    </qti-mapping>
  </qti-response-declaration>
{SCORE}""", """
    <qti-match-interaction response-identifier="RESPONSE" max-associations="2">
      <qti-simple-match-set>
        <qti-simple-associable-choice identifier="FR" match-max="1">France</qti-simple-associable-choice>
        <qti-simple-associable-choice identifier="IT" match-max="1">Italy</qti-simple-associable-choice>
      </qti-simple-match-set>
      <qti-simple-match-set>
        <qti-simple-associable-choice identifier="PAR" match-max="1">Paris</qti-simple-associable-choice>
        <qti-simple-associable-choice identifier="ROM" match-max="1">Rome</qti-simple-associable-choice>
      </qti-simple-match-set>
    </qti-match-interaction>""", template("map_response"))

ASSOCIATE = item("associate", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="pair">
    <qti-correct-response><qti-value>CAT DOG</qti-value></qti-correct-response>
    <qti-mapping default-value="0"><qti-map-entry map-key="CAT DOG" mapped-value="1"/></qti-mapping>
  </qti-response-declaration>
{SCORE}""", """
    <qti-associate-interaction response-identifier="RESPONSE" max-associations="2">
      <qti-simple-associable-choice identifier="CAT" match-max="1">cat</qti-simple-associable-choice>
      <qti-simple-associable-choice identifier="DOG" match-max="1">dog</qti-simple-associable-choice>
      <qti-simple-associable-choice identifier="OAK" match-max="1">oak</qti-simple-associable-choice>
    </qti-associate-interaction>""", template("map_response"))

GAP_MATCH = item("gaps", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="directedPair">
    <qti-correct-response><qti-value>W1 G1</qti-value><qti-value>W2 G2</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <qti-gap-match-interaction response-identifier="RESPONSE">
      <qti-gap-text identifier="W1" match-max="1">sun</qti-gap-text>
      <qti-gap-text identifier="W2" match-max="1">moon</qti-gap-text>
      <p>By day the <qti-gap identifier="G1"/> shines, by night the <qti-gap identifier="G2"/>.</p>
    </qti-gap-match-interaction>""", template("match_correct"))

INLINE_CHOICE = item("inline", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>Y</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <p>Water boils at 100 degrees
      <qti-inline-choice-interaction response-identifier="RESPONSE">
        <qti-inline-choice identifier="X">Fahrenheit</qti-inline-choice>
        <qti-inline-choice identifier="Y">Celsius</qti-inline-choice>
      </qti-inline-choice-interaction>.</p>""", template("match_correct"))

HOTSPOT = item("hotspot", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>H2</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <qti-hotspot-interaction response-identifier="RESPONSE" max-choices="1">
      <img src="map.png" alt="a map" width="200" height="100"/>
      <qti-hotspot-choice identifier="H1" shape="circle" coords="50,50,20"/>
      <qti-hotspot-choice identifier="H2" shape="rect" coords="120,20,180,80"/>
    </qti-hotspot-interaction>""", template("match_correct"))

SELECT_POINT = item("point", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="point">
    <qti-correct-response><qti-value>102 113</qti-value></qti-correct-response>
    <qti-area-mapping default-value="0">
      <qti-area-map-entry shape="circle" coords="102,113,16" mapped-value="1"/>
      <qti-area-map-entry shape="poly" coords="0,0,10,0,10,10" mapped-value="0.5"/>
    </qti-area-mapping>
  </qti-response-declaration>
{SCORE}""", """
    <qti-select-point-interaction response-identifier="RESPONSE" max-choices="1">
      <img src="uk.png" alt="the UK" width="206" height="280"/>
    </qti-select-point-interaction>""", template("map_response_point"))

SLIDER = item("slider", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="float">
    <qti-correct-response><qti-value>3.5</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <qti-slider-interaction response-identifier="RESPONSE" lower-bound="0" upper-bound="10" step="0.5"/>""", """
  <qti-response-processing>
    <qti-response-condition>
      <qti-response-if>
        <qti-equal tolerance-mode="absolute" tolerance="0.5 0.5">
          <qti-variable identifier="RESPONSE"/><qti-correct identifier="RESPONSE"/>
        </qti-equal>
        <qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">1</qti-base-value></qti-set-outcome-value>
      </qti-response-if>
    </qti-response-condition>
  </qti-response-processing>""")

CUSTOM = item("custom", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string">
    <qti-correct-response><qti-value>Mitochondria</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}
  <qti-outcome-declaration identifier="FEEDBACK" cardinality="single" base-type="identifier"/>
  <qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float">
    <qti-default-value><qti-value>2</qti-value></qti-default-value>
  </qti-outcome-declaration>""", """
    <p>The powerhouse of the cell: <qti-text-entry-interaction response-identifier="RESPONSE"/></p>
    <qti-feedback-inline outcome-identifier="FEEDBACK" identifier="RIGHT" show-hide="show">Yes.</qti-feedback-inline>""", """
  <qti-response-processing>
    <qti-response-condition>
      <qti-response-if>
        <qti-is-null><qti-variable identifier="RESPONSE"/></qti-is-null>
        <qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0</qti-base-value></qti-set-outcome-value>
      </qti-response-if>
      <qti-response-else-if>
        <qti-string-match case-sensitive="true">
          <qti-variable identifier="RESPONSE"/><qti-correct identifier="RESPONSE"/>
        </qti-string-match>
        <qti-set-outcome-value identifier="SCORE"><qti-variable identifier="MAXSCORE"/></qti-set-outcome-value>
        <qti-set-outcome-value identifier="FEEDBACK"><qti-base-value base-type="identifier">RIGHT</qti-base-value></qti-set-outcome-value>
      </qti-response-else-if>
      <qti-response-else>
        <qti-set-outcome-value identifier="SCORE">
          <qti-sum><qti-base-value base-type="float">0</qti-base-value><qti-variable identifier="numAttempts"/></qti-sum>
        </qti-set-outcome-value>
      </qti-response-else>
    </qti-response-condition>
  </qti-response-processing>
  <qti-modal-feedback outcome-identifier="FEEDBACK" identifier="RIGHT" show-hide="show">Well done.</qti-modal-feedback>""")

HOTTEXT = item("hottext", f"""
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier">
    <qti-correct-response><qti-value>T2</qti-value></qti-correct-response>
  </qti-response-declaration>
{SCORE}""", """
    <qti-hottext-interaction response-identifier="RESPONSE" max-choices="2">
      <p>The <qti-hottext identifier="T1">quick</qti-hottext> fox <qti-hottext identifier="T2">jumps</qti-hottext>.</p>
    </qti-hottext-interaction>""", template("match_correct"))

STIMULUS = (f'<qti-assessment-stimulus xmlns="{NS}" identifier="stim1" title="A passage">\n'
            "  <qti-stimulus-body><p>Once upon a time.</p></qti-stimulus-body>\n"
            "</qti-assessment-stimulus>\n")

TEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-test xmlns="{NS}" identifier="unit-test-1" title="Unit test">
  <qti-outcome-declaration identifier="TOTAL" cardinality="single" base-type="float"/>
  <qti-test-part identifier="part1" navigation-mode="linear" submission-mode="individual">
    <qti-assessment-section identifier="sec1" title="Section 1" visible="true">
      <qti-assessment-item-ref identifier="choice" href="items/choice.xml"/>
      <qti-assessment-item-ref identifier="multi" href="items/multi.xml">
        <qti-branch-rule target="sec2"><qti-base-value base-type="boolean">true</qti-base-value></qti-branch-rule>
      </qti-assessment-item-ref>
    </qti-assessment-section>
    <qti-assessment-section identifier="sec2" title="Section 2" visible="true">
      <qti-assessment-section identifier="sec2a" title="Nested" visible="false">
        <qti-assessment-item-ref identifier="text" href="https://qti.example/assessment-items/text"/>
      </qti-assessment-section>
    </qti-assessment-section>
  </qti-test-part>
  <qti-outcome-processing>
    <qti-set-outcome-value identifier="TOTAL">
      <qti-sum><qti-variable identifier="choice.SCORE"/><qti-variable identifier="multi.SCORE"/></qti-sum>
    </qti-set-outcome-value>
  </qti-outcome-processing>
</qti-assessment-test>
"""

VALID_ITEMS = {
    "choice": CHOICE, "multiple-choice-mapping": MULTIPLE_CHOICE, "text-entry": TEXT_ENTRY,
    "extended-text": EXTENDED_TEXT, "order": ORDER, "match": MATCH, "associate": ASSOCIATE,
    "gap-match": GAP_MATCH, "inline-choice": INLINE_CHOICE, "hotspot": HOTSPOT,
    "select-point-area-mapping": SELECT_POINT, "slider": SLIDER,
    "custom-response-processing": CUSTOM, "hottext": HOTTEXT,
}
VALID_DOCUMENTS = {**VALID_ITEMS, "stimulus": STIMULUS, "test": TEST}


def line_of(xml: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth occurrence of `needle` in `xml`."""
    at = -1
    for _ in range(nth):
        at = xml.index(needle, at + 1)
    return xml.count("\n", 0, at) + 1
