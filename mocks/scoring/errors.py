"""The two ways scoring refuses: the candidate's response is wrong in shape (a 4xx for the caller),
or the item's response processing cannot be run (broken or unsupported XML, found at compile time)."""
from __future__ import annotations


class ResponseMisfit(ValueError):
    """The response does not fit its declaration. The message names the response identifier, the
    cardinality and base type the declaration expects, and what arrived."""


class ItemNotScorable(ValueError):
    """The item's response processing is broken or uses something this engine does not support;
    the message says which element and why."""
