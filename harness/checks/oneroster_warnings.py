"""OneRoster warning rules: what the spec allows but real clients stumble over.

Each raises `CheckWarning` (result status "warning", never a failed run). A target that breaks the
spec here is other rules' business, so a warning rule that meets a broken answer skips instead of
failing. Records this run created are left out (minimal bodies lack optional fields on purpose).
"""
from __future__ import annotations

import functools
from typing import Callable

from tbconform.harness.catalog import OpInfo
from tbconform.harness.checks.oneroster import _list, _list_path, _page, _paging_setup
from tbconform.harness.context import CheckContext
from tbconform.harness.rules import CheckFailed, CheckWarning, NotApplicable, rule

Check = Callable[[CheckContext, OpInfo], None]


def _advice(check: Check) -> Check:
    """A broken answer is judged by the failing rules; here it only means there is nothing to advise on."""

    @functools.wraps(check)
    def advise(ctx: CheckContext, op: OpInfo) -> None:
        try:
            check(ctx, op)
        except CheckFailed as exc:
            raise NotApplicable(f"the answer is judged by other rules: {exc}") from None

    return advise


@rule("oneroster.paging.link-header",
      "A page that more records follow carries a Link header (optional in the spec; without it the official "
      "client pages by guesswork).", _list)
@_advice
def paging_link_header(ctx: CheckContext, op: OpInfo) -> None:
    path, _, limit = _paging_setup(ctx, op)
    page = _page(ctx, op, path, 0, limit)
    if page.total is None or page.total <= limit:
        raise NotApplicable(f"GET {path} limit={limit} reports no total beyond the page; no next page to link")
    if not page.response.headers.get("Link"):
        raise CheckWarning(f"GET {path} limit={limit}: {page.total} records in total, so more pages follow, but the "
                           f"answer has no Link header; the official client then pages by guesswork")


@rule("oneroster.paging.total-count-header",
      "List answers carry X-Total-Count (optional in the spec; clients size their paging by it).", _list)
@_advice
def paging_total_count_header(ctx: CheckContext, op: OpInfo) -> None:
    path = _list_path(ctx, op)
    page = _page(ctx, op, path, 0, 2)
    if page.response.headers.get("X-Total-Count") is None:
        raise CheckWarning(f"GET {path} limit=2 answered without an X-Total-Count header; clients that size their "
                           f"paging by it see no total")


def _users_list(op: OpInfo) -> bool:
    return _list(op) and op.collection == "users"


@rule("oneroster.users.email",
      "Listed users carry email (optional in OneRoster 1.2, but every Timeback client looks users up and signs "
      "them in by it).", _users_list)
@_advice
def users_email(ctx: CheckContext, op: OpInfo) -> None:
    path = _list_path(ctx, op)
    page = _page(ctx, op, path, 0, 100)
    users = [u for u in ctx.others(page.items) if u.get("status") != "tobedeleted"]
    if not users:
        raise NotApplicable(f"GET {path} lists no users to look at")
    lacking = [u for u in users if not (isinstance(u.get("email"), str) and u["email"].strip())]
    if lacking:
        raise CheckWarning(f"GET {path}: {len(lacking)} of {len(users)} listed users have no email, e.g. "
                           f"{lacking[0].get('sourcedId')!r}; clients that find or sign in users by email miss them")
