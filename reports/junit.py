"""JUnit XML: the format every CI system already knows how to show.

One testsuite per API, one testcase per check.  Failure text carries the curl command and the
response excerpt, so a red build can be diagnosed from the CI page alone.  JUnit has no warning
outcome: a warning stays a passing testcase (it must not fail the build) whose `system-out`
starts with `WARNING`, and each suite counts its warnings in a `warnings` property.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from .model import CheckResult, RunResult, tally

# XML 1.0 allows only these characters; anything else (NUL, most C0 controls, lone surrogates,
# U+FFFE/U+FFFF) makes the document unparseable, so it is dropped.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: object) -> str:
    return _XML_FORBIDDEN.sub("", str(text))


def value_text(value: object) -> str:
    """A settings value as text: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def detail(result: CheckResult) -> str:
    """Human-readable body of a failure: rule, message, replayable request, what came back."""
    lines = [f"rule {result.id}: {result.rule}" if result.rule else f"rule {result.id}", "", result.message]
    ex = result.exchange
    if ex is not None:
        lines += ["", "request:", ex.curl(), "", f"response status: {ex.status if ex.status is not None else '(none)'}"]
        if ex.response_body:
            lines += ["response excerpt:", ex.response_body]
    return "\n".join(lines)


def _set(el: ET.Element, **attrs: object) -> ET.Element:
    for key, value in attrs.items():
        el.set(key, xml_safe(value))
    return el


def _counts(results: list[CheckResult]) -> dict[str, object]:
    c = tally(results)
    return {"tests": len(results), "failures": c["failed"], "errors": c["error"], "skipped": c["skipped"],
            "time": f"{sum(r.duration for r in results):.3f}"}


def render_junit(run: RunResult) -> str:
    """The report as an XML string (with declaration); `run` must already be redacted."""
    by_api: dict[str, list[CheckResult]] = defaultdict(list)
    for result in run.results:
        by_api[result.api].append(result)
    root = _set(ET.Element("testsuites"), name=f"tbconform {run.target}", **_counts(run.results))
    for api, results in sorted(by_api.items()):
        suite = _set(ET.SubElement(root, "testsuite"), name=api, timestamp=run.started, **_counts(results))
        props = ET.SubElement(suite, "properties")
        warned = tally(results)["warning"]
        for key, value in [("target", run.target), ("warnings", warned),
                           *sorted((str(k), v) for k, v in run.settings.items())]:
            _set(ET.SubElement(props, "property"), name=key, value=value_text(value))
        for r in results:
            case = _set(ET.SubElement(suite, "testcase"), name=f"{r.operation} :: {r.id}",
                        classname=f"tbconform.{r.api}.{r.layer}", time=f"{r.duration:.3f}")
            if r.status in ("failed", "error"):
                tag = "failure" if r.status == "failed" else "error"
                el = _set(ET.SubElement(case, tag), message=r.message.splitlines()[0] if r.message else r.status,
                          type=r.id)
                el.text = xml_safe(detail(r))
            elif r.status == "skipped":
                _set(ET.SubElement(case, "skipped"), message=r.message)
            elif r.status == "warning":
                ET.SubElement(case, "system-out").text = xml_safe("WARNING " + detail(r))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
