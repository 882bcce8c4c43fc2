"""Element and attribute names, read the same way for QTI 3.0 (`qti-match`, `base-type`) and the
QTI 2.x camelCase that older items still use (`match`, `baseType`): compile code asks for the 3.0
spelling only, so each rule is written once."""
from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from tbconform.specs.xmlsafe import local_name

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=512)
def _kebab(name: str) -> str:
    return _CAMEL.sub(r"-\1", name).lower()


def tag(element: etree._Element) -> str:
    """The QTI 3.0 local name of `element` ('' for comments and processing instructions)."""
    name = local_name(element)
    if not name or name.startswith("qti-"):
        return name
    return "qti-" + _kebab(name)


def attr(element: etree._Element, name: str, default: str | None = None) -> str | None:
    """Attribute `name` (kebab form) of `element`, also found under its camelCase 2.x spelling."""
    value = element.get(name)
    if value is None and "-" in name:
        head, *rest = name.split("-")
        value = element.get(head + "".join(part.capitalize() for part in rest))
    return default if value is None else value


def children(element: etree._Element) -> list[etree._Element]:
    """The element children of `element` (comments and processing instructions left out)."""
    return [child for child in element if isinstance(child.tag, str)]


def flag(element: etree._Element, name: str, default: bool) -> bool:
    """A boolean attribute: 'true'/'1' or 'false'/'0'; anything else keeps `default`."""
    value = attr(element, name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    return default


def where(element: etree._Element) -> str:
    """'<qti-match> (line 12)' — how messages point at an element."""
    line = element.sourceline
    return f"<{tag(element)}>" + (f" (line {line})" if line else "")
