"""Redaction: reports travel (CI artefacts, tickets), credentials must not travel with them.

Writers redact the *model* before rendering (so escaping can never hide a secret from the
scan) and then scan their rendered text once more as a safety net.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterable, Mapping
from urllib.parse import quote, quote_plus

from .model import Exchange, RunResult, map_strings

MASK = "***"
MIN_SECRET = 4
SENSITIVE_KEYS = ("access_token", "refresh_token", "id_token", "client_secret", "password",
                  "accessToken", "refreshToken", "clientSecret", "api_key", "apiKey")
_SENSITIVE_LOWER = {k.lower() for k in SENSITIVE_KEYS} | {"secret", "token", "authorization"}
_AUTH_HEADERS = {"authorization", "proxy-authorization"}
_OPAQUE_HEADERS = {"cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token"}
_KEYS = "|".join(SENSITIVE_KEYS)
# "key": "value"  (also inside JSON-in-a-string, where the quotes arrive escaped as \")
_JSON_VALUE = re.compile(rf'((?:\\?")(?:{_KEYS})(?:\\?")\s*:\s*)(\\?")(?:\\.|[^"\\])*?(\2)', re.I)
_JSON_BARE = re.compile(rf'((?:\\?")(?:{_KEYS})(?:\\?")\s*:\s*)(?![\s"\\])[^,}}\]\s]+', re.I)
# key=value in forms and query strings
_FORM_VALUE = re.compile(rf"(?<![A-Za-z0-9_])((?:{_KEYS})=)[^&\s\"'<>]+", re.I)
# "Bearer <token>" in free text; the token must look like one (digit or punctuation, 8+ chars)
# so prose such as "Bearer authentication" survives.
_SCHEME_TOKEN = re.compile(r"\b(Bearer|Basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}", re.I)
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@", re.I)


def clean_secrets(secrets: Iterable[str]) -> list[str]:
    """Usable secrets, longest first (so a secret containing another is masked whole).

    Strings shorter than MIN_SECRET are ignored: masking "x" everywhere would shred the markup
    of every report, and nothing that short is a credential.
    """
    usable = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET and s.strip("*")}
    return sorted(usable, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask credentials in free text: auth schemes, sensitive JSON/form values, given secrets."""
    if not text:
        return text
    for secret in clean_secrets(secrets):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret))):
            text = text.replace(form, MASK)
    text = _JSON_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(3)}", text)
    text = _JSON_BARE.sub(lambda m: f'{m.group(1)}"{MASK}"', text)
    text = _FORM_VALUE.sub(lambda m: m.group(1) + MASK, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}:{MASK}@", text)


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """Authorization keeps its scheme (`Bearer ***`) so the reader sees which auth was used."""
    secrets = clean_secrets(secrets)
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _AUTH_HEADERS:
            scheme = str(value).split(" ", 1)[0] if " " in str(value) else ""
            out[name] = f"{scheme} {MASK}" if scheme.isalpha() else MASK
        elif lower in _OPAQUE_HEADERS:
            out[name] = MASK
        else:
            out[name] = redact(str(value), secrets)
    return out


def _redact_data(obj: Any, secrets: list[str]) -> Any:
    """Settings-style data: values under sensitive keys are masked whatever they hold."""
    if isinstance(obj, Mapping):
        return {redact(str(k), secrets): MASK if str(k).lower() in _SENSITIVE_LOWER else _redact_data(v, secrets)
                for k, v in obj.items()}
    return map_strings(obj, lambda s: redact(s, secrets))


def redact_exchange(exchange: Exchange, secrets: Iterable[str] = ()) -> Exchange:
    secrets = clean_secrets(secrets)
    r = lambda s: redact(s, secrets) if s is not None else None  # noqa: E731
    return replace(exchange, url=r(exchange.url), request_body=r(exchange.request_body),
                   response_body=r(exchange.response_body),
                   request_headers=redact_headers(exchange.request_headers, secrets),
                   response_headers=redact_headers(exchange.response_headers, secrets))


def redact_run(run: RunResult, secrets: Iterable[str] = ()) -> RunResult:
    """A copy of `run` safe to write; `settings["_secrets"]` is honoured and then dropped."""
    secrets = run_secrets(run, secrets)
    r = lambda s: redact(s, secrets)  # noqa: E731
    settings = {k: v for k, v in run.settings.items() if k != "_secrets"}
    results = [replace(c, id=r(c.id), api=r(c.api), operation=r(c.operation), message=r(c.message),
                       rule=r(c.rule), exchange=redact_exchange(c.exchange, secrets) if c.exchange else None)
               for c in run.results]
    return replace(run, target=r(run.target), settings=_redact_data(settings, secrets), results=results)


def run_secrets(run: RunResult, secrets: Iterable[str] = ()) -> list[str]:
    """Explicit secrets plus any the run carries under `settings["_secrets"]`."""
    return clean_secrets([*secrets, *run.settings.get("_secrets", ())])

