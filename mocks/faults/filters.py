"""Filter faults: the client's `?filter=` is dropped, compiled wrongly, or one match goes missing.

Operator faults wrap the `filter_compiler` step, so only the client's filter is compiled wrongly,
never a binding's scope (`roles.role='student'`).
"""
from __future__ import annotations

from typing import Any, Callable

from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action, edit_json, hiding, listed
from tbconform.mocks.query import BoolExpr, Compiler, Node, Predicate

Rewrite = Callable[[Compiler, Node, Callable[[Node], str]], str]


class RewritingCompiler(Compiler):
    """A compiler that passes every node through `rewrites` (each may change it or answer SQL)."""

    def __init__(self, fields: Any, rewrites: list[Rewrite]) -> None:
        super().__init__(fields)
        self.rewrites = rewrites

    def compile(self, node: Node) -> str:
        def step(index: int, current: Node) -> str:
            if index == len(self.rewrites):
                return Compiler.compile(self, current)
            return self.rewrites[index](self, current, lambda changed: step(index + 1, changed))
        return step(0, node)


def compiler_fault(name: str, description: str) -> Callable[[Rewrite], Rewrite]:
    """Register a node rewrite as a fault of the client-filter compiler."""
    def register(rewrite: Rewrite) -> Rewrite:
        @fault(name, description, wraps="filter_compiler")
        def wrap(make: Callable[[Any], Compiler]) -> Callable[[Any], Compiler]:
            def build(fields: Any) -> Compiler:
                base = make(fields)
                earlier = base.rewrites if isinstance(base, RewritingCompiler) else []
                return RewritingCompiler(fields, [*earlier, rewrite])
            return build
        return rewrite
    return register


fault("filter-ignored", "the filter query parameter is accepted but not applied", wraps="list")(hiding("filter"))


def _swap(op: str, to: str) -> Rewrite:
    def rewrite(c: Compiler, node: Node, nxt: Callable[[Node], str]) -> str:
        if isinstance(node, Predicate) and node.op == op:
            node = Predicate(node.field, to, node.value)
        return nxt(node)
    return rewrite


compiler_fault("filter-gt-inclusive", "`>` behaves like `>=`")(_swap(">", ">="))
compiler_fault("filter-ge-exclusive", "`>=` behaves like `>`")(_swap(">=", ">"))
compiler_fault("filter-lt-inclusive", "`<` behaves like `<=`")(_swap("<", "<="))
compiler_fault("filter-le-exclusive", "`<=` behaves like `<`")(_swap("<=", "<"))


@compiler_fault("filter-contains-case-sensitive", "`~` matches case-sensitively")
def _contains_case_sensitive(c: Compiler, node: Node, nxt: Callable[[Node], str]) -> str:
    if not (isinstance(node, Predicate) and node.op == "~"):
        return nxt(node)
    c.params.append(node.value)
    mark = len(c.params)
    return c._walk(c.field(node.field), lambda expr: f"instr({expr}, ?{mark}) > 0")


@compiler_fault("filter-not-equals-wrong", "`!=` leaves out records that lack the field (not the complement of `=`)")
def _not_equals_wrong(c: Compiler, node: Node, nxt: Callable[[Node], str]) -> str:
    if not (isinstance(node, Predicate) and node.op == "!="):
        return nxt(node)
    return f"(NOT coalesce({c._over(c.field(node.field), '=', node.value)}, 1))"


@compiler_fault("filter-in-first-only", "`@` matches only the first value of its list")
def _in_first_only(c: Compiler, node: Node, nxt: Callable[[Node], str]) -> str:
    if isinstance(node, Predicate) and node.op == "@":
        node = Predicate(node.field, "@", node.value.split(",")[0])
    return nxt(node)


@compiler_fault("filter-or-as-and", "OR is evaluated as AND")
def _or_as_and(c: Compiler, node: Node, nxt: Callable[[Node], str]) -> str:
    if isinstance(node, BoolExpr) and node.op == "OR":
        node = BoolExpr("AND", node.parts)
    return nxt(node)


@compiler_fault("filter-dotted-ignored", "predicates on dotted paths (course.sourcedId=...) are dropped")
def _dotted_ignored(c: Compiler, node: Node, nxt: Callable[[Node], str]) -> str:
    return "1" if isinstance(node, Predicate) and "." in node.field else nxt(node)


@fault("filter-drops-record",
       "a filtered list leaves out one matching record while X-Total-Count and totalCount still count it",
       wraps="list")
def _drops_record(call: Action) -> Action:
    def drop_first(ctx: RequestContext, body: dict[str, Any]) -> None:
        for records in listed(ctx, body):
            del records[:1]

    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if ctx.query.get("filter") is None:
            return response
        return edit_json(response, lambda body: drop_first(ctx, body))
    return run
