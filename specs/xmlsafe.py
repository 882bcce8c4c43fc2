"""Parse XML that arrives from outside (an HTTP body, a file to validate) without trusting it.

Every XML document the sandbox, the harness or `tbconform validate` reads goes through `parse`:
one hardened lxml parser, so that no caller can forget a setting. What it refuses, and why:

* a DOCTYPE of any kind: QTI 3.0 content never needs one, and a DTD is where external entities
  (XXE, file and network reads) and entity-expansion bombs ("billion laughs") live. Refusing the
  declaration outright is simpler and safer than resolving it carefully;
* bytes that are not UTF-8 (or the encoding the XML declaration names), and a document larger
  than `MAX_BYTES`: the answer is a 4xx, never a hang or a memory blow-up;
* anything that is not well-formed, with the line and column lxml reports.

The parser never touches the network (`no_network`), never loads a DTD, never substitutes
entities and keeps lxml's own limits on depth and text size (`huge_tree=False`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

MAX_BYTES = 5 * 1024 * 1024  # the largest XML document accepted (5 MiB)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


@dataclass
class XmlRefused(Exception):
    """The document was not parsed. `rule` is a stable id; `line` is 1-based (0 when unknown)."""

    rule: str
    message: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=False,
                           remove_pis=False, collect_ids=False)


def parse(data: str | bytes, *, max_bytes: int = MAX_BYTES) -> etree._Element:
    """The root element of `data`, or `XmlRefused` saying why it cannot be trusted or read."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise XmlRefused("xml.too-large",
                         f"the XML document is {len(raw):,} bytes; the limit is {max_bytes:,}")
    if isinstance(data, str) and raw.lstrip().startswith(b"<?xml"):
        # A str was already decoded; an encoding in its declaration would confuse lxml.
        raw = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", raw, count=1)
    head = raw[:65536]
    if _ENTITY.search(raw):
        raise XmlRefused("xml.entity-declaration",
                         "entity declarations are refused (no external entities, no expansion)",
                         _line_of(raw, _ENTITY))
    if _DOCTYPE.search(head):
        raise XmlRefused("xml.doctype", "a DOCTYPE is refused: QTI 3.0 XML needs no DTD",
                         _line_of(raw, _DOCTYPE))
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (0, 0)
        message = (exc.msg or str(exc)).split(", line ")[0]
        rule = "xml.encoding" if "encoding" in message.lower() or "utf-8" in message.lower() \
            else "xml.well-formed"
        raise XmlRefused(rule, f"not well-formed XML: {message}", line or 0, column or 0) from None
    except ValueError as exc:  # lxml refuses e.g. a str with an encoding declaration
        raise XmlRefused("xml.well-formed", f"not well-formed XML: {exc}") from None
    if root is None:
        raise XmlRefused("xml.well-formed", "the document is empty")
    for node in root.iter(etree.Entity):  # an undeclared entity reference left unresolved
        raise XmlRefused("xml.entity-declaration", f"entity reference &{node.name}; is refused",
                         node.sourceline or 0)
    return root


def _line_of(raw: bytes, pattern: re.Pattern[bytes]) -> int:
    match = pattern.search(raw)
    return raw.count(b"\n", 0, match.start()) + 1 if match else 0


def is_xml_media(media_type: str) -> bool:
    """Whether a media type (a Content-Type, parameters allowed) is XML: `application/xml`,
    `text/xml`, or a `+xml` suffix."""
    media = media_type.split(";", 1)[0].strip().lower()
    return media.endswith("/xml") or media.endswith("+xml")


def local_name(element: etree._Element) -> str:
    """The tag without its namespace (`qti-choice-interaction`); '' for comments and PIs."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
