"""Deliberately broken behaviours, so the harness can prove it notices each one.

`SandboxConfig(faults={"filter-ignored", ...})` turns faults on; with none active every hook is a
single falsy-set test, so the healthy sandbox pays nothing. Each entry of `FAULTS` names what
breaks; `tests/test_harness_detection.py` pairs it with the rule (or contract check) that catches it.

Hooks live where the behaviour lives: `mocks/actions.py` (list/get/write actions),
`mocks/app.py` (auth/scope enforcement, error rendering, query validation), `mocks/auth.py`
(token signatures) and `mocks/sandbox.py` (store corruption after seeding).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tbconform.mocks.query import BoolExpr, Compiler, Predicate

if TYPE_CHECKING:
    from tbconform.mocks.sandbox import Sandbox

FAULTS: dict[str, str] = {
    # filter
    "filter-ignored": "the filter query parameter is accepted but not applied",
    "filter-contains-case-sensitive": "`~` matches case-sensitively",
    "filter-not-equals-wrong": "`!=` leaves out records that lack the field (not the complement of `=`)",
    "filter-gt-inclusive": "`>` behaves like `>=`",
    "filter-ge-exclusive": "`>=` behaves like `>`",
    "filter-lt-inclusive": "`<` behaves like `<=`",
    "filter-le-exclusive": "`<=` behaves like `<`",
    "filter-in-first-only": "`@` matches only the first value of its list",
    "filter-or-as-and": "OR is evaluated as AND",
    "filter-dotted-ignored": "predicates on dotted paths (course.sourcedId=...) are dropped",
    # paging
    "total-count-off-by-one": "X-Total-Count and totalCount report one record more than exist",
    "page-duplicate": "pages after the first start one record early (one record repeats across pages)",
    "link-next-missing": "the Link header never carries rel=next",
    "limit-ignored": "pages hold the default 100 records whatever limit asks for",
    "page-fields-wrong": "pageNumber is zero-based",
    "wrong-type": "totalCount is sent as a string",
    # sort / fields / search
    "sort-ignored": "sort and orderBy are accepted but not applied",
    "sort-reversed": "orderBy=asc sorts descending and desc ascending",
    "fields-ignored": "fields= is accepted but whole records are returned",
    "search-ignored": "search= is accepted but not applied",
    "required-field-missing": "listed users lack the required field enabledUser",
    # reads
    "get-differs": "GET by id answers a different dateLastModified than the listing",
    "dangling-reference": "the first enrollment references a user that does not exist",
    "not-found-200": "GET of an unknown id answers 200 with a stub record",
    # errors
    "error-envelope-wrong": "error bodies lack imsx_severity and the code-minor field name; codeMajor is 'error'",
    "error-envelope-plain": "error bodies are a plain {\"error\": ...} object",
    "error-codeminor-wrong": "404 answers carry codeMinor invaliddata instead of unknownobject",
    "server-error-on-bad-input": "an invalid filter answers 500 instead of 400",
    # auth
    "auth-not-enforced": "requests without an Authorization header are served",
    "forged-token-accepted": "token signatures are not verified",
    "scope-not-enforced": "token scopes are not checked (read-only clients can write)",
    # writes
    "hard-delete": "DELETE removes the record (it vanishes from listings instead of showing tobedeleted)",
    "delete-repeat-accepted": "DELETE of an already deleted record answers 204 again",
    "references-not-checked": "writes whose references do not resolve are accepted",
    "update-ignored": "PUT answers success but keeps the old record",
}

DANGLING_USER = "tbconform-fault-missing-user"


def check(names: frozenset[str]) -> frozenset[str]:
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown sandbox fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return frozenset(names)


class FaultyCompiler(Compiler):
    """The filter compiler with operator faults applied (used for `?filter=` only)."""

    def __init__(self, fields: Any, faults: frozenset[str]) -> None:
        super().__init__(fields)
        self.faults = faults
        self.active = False  # only the client's ?filter= is compiled wrongly, never a binding's scope

    def compile_user(self, node: Any) -> str:
        self.active = True
        try:
            return self.compile(node)
        finally:
            self.active = False

    def compile(self, node: Any) -> str:
        if self.active and isinstance(node, BoolExpr) and node.op == "OR" and "filter-or-as-and" in self.faults:
            node = BoolExpr("AND", node.parts)
        return super().compile(node)

    def predicate(self, pred: Predicate) -> str:
        if not self.active:
            return super().predicate(pred)
        f = self.faults
        if "." in pred.field and "filter-dotted-ignored" in f:
            return "1"
        swap = {">": ("filter-gt-inclusive", ">="), ">=": ("filter-ge-exclusive", ">"),
                "<": ("filter-lt-inclusive", "<="), "<=": ("filter-le-exclusive", "<")}.get(pred.op)
        if swap and swap[0] in f:
            pred = Predicate(pred.field, swap[1], pred.value)
        if pred.op == "@" and "filter-in-first-only" in f:
            pred = Predicate(pred.field, "@", pred.value.split(",")[0])
        if pred.op == "!=" and "filter-not-equals-wrong" in f:
            return f"(NOT coalesce({self._over(self.field(pred.field), '=', pred.value)}, 1))"
        if pred.op == "~" and "filter-contains-case-sensitive" in f:
            self.params.append(pred.value)
            mark = len(self.params)
            return self._walk(self.field(pred.field), lambda expr: f"instr({expr}, ?{mark}) > 0")
        return super().predicate(pred)


def compiler(fields: Any, faults: frozenset[str]) -> FaultyCompiler:
    return FaultyCompiler(fields, faults)


def error_body(faults: frozenset[str], status: int, body: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a rendered error envelope under the error faults."""
    if "error-envelope-plain" in faults:
        return {"error": body.get("imsx_description", "error")}
    minor = body.get("imsx_CodeMinor", {}).get("imsx_codeMinorField", [{}])
    if "error-codeminor-wrong" in faults and status == 404 and minor:
        minor[0]["imsx_codeMinorFieldValue"] = "invaliddata"
    if "error-envelope-wrong" in faults:
        value = minor[0].get("imsx_codeMinorFieldValue") if minor else "invaliddata"
        return {"imsx_codeMajor": "error", "imsx_description": body.get("imsx_description", ""),
                "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldValue": value}]}}
    return body


def corrupt_store(sandbox: "Sandbox") -> None:
    """Store-level faults, applied after every (re)seed."""
    if "dangling-reference" in sandbox.config.faults:
        store = sandbox.store
        row = store.db.execute("SELECT data FROM records WHERE collection = 'enrollments' ORDER BY seq LIMIT 1").fetchone()
        if row:
            import orjson

            record = orjson.loads(row[0])
            record["user"] = {**(record.get("user") or {}), "sourcedId": DANGLING_USER,
                              "href": f"/ims/oneroster/rostering/v1p2/users/{DANGLING_USER}"}
            store.replace("enrollments", record)


def hard_delete(sandbox: "Sandbox", collection: str, record_id: str) -> None:
    sandbox.store.db.execute("DELETE FROM records WHERE collection = ? AND id = ?", (collection, record_id))
