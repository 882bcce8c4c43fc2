"""Error envelopes. Each API names its style in the spec (`x-tb-error-style`); plug-ins add styles."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any, Callable

ErrorStyle = Callable[[int, str, list[dict[str, Any]] | None], dict[str, Any]]

IMS_MINOR_CODES = {
    400: "invaliddata",
    401: "unauthorisedrequest",
    403: "forbidden",
    404: "unknownobject",
    405: "invaliddata",
    409: "invaliddata",
    413: "invaliddata",
    415: "invaliddata",
    422: "invaliddata",
    429: "server_busy",
    500: "internal_server_error",
}


def ims_envelope(status: int, description: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The IMS `imsx_StatusInfo` envelope used by OneRoster, CASE, Open Badges, CLR and friends."""
    body: dict[str, Any] = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": IMS_MINOR_CODES.get(status, "invaliddata"),
                }
            ]
        },
    }
    if details:
        body["imsx_error_details"] = details
    return body


def error_details_envelope(status: int, description: str,
                           details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`{"error": "...", "details": "..."}` (Timeback's QTI API): the message under `error`, which the
    official clients read when there is no `message`; `details` is a string, so structured details
    (a path or an XML line and rule) are written out one after the other."""
    if details:
        text = "; ".join(_detail_text(d) for d in details)
    else:
        try:
            text = HTTPStatus(status).phrase
        except ValueError:
            text = "Error"
    return {"error": description, "details": text}


def _detail_text(detail: dict[str, Any]) -> str:
    where = f"line {detail['line']}: " if detail.get("line") else (f"{detail['path']}: " if detail.get("path") else "")
    rule = f"[{detail['rule']}] " if detail.get("rule") else ""
    return f"{where}{rule}{detail.get('message', '')}"


ERROR_STYLES: dict[str, ErrorStyle] = {"ims": ims_envelope, "error-details": error_details_envelope}


class ApiError(Exception):
    """Raised anywhere in request handling; rendered in the operation's error style."""

    def __init__(self, status: int, description: str, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.details = details
        self.headers = headers or {}


def render(style: str, error: ApiError) -> dict[str, Any]:
    return ERROR_STYLES.get(style, ims_envelope)(error.status, error.description, error.details)
