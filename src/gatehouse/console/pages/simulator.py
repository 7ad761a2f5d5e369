"""The policy simulator: would this principal (or these pasted policies) be allowed these actions on these
resources? Answered by SimulatePrincipalPolicy or SimulateCustomPolicy as the signed-in principal, so the
decisions are the API's, and a caller the simulator operations are denied to is told so with the engine's reason.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError

from ..policy_feedback import action_names
from ..simulation import (
    CONTEXT_TYPES,
    PRINCIPAL_KINDS,
    FormProblem,
    ShownResult,
    SimulationForm,
    policy_texts,
    request_for,
    shown_results,
)
from ..web import BASE, Console, Problem, View

CONTEXT_ROWS = 3


def _page(view: View, form: SimulationForm, *, results: list[ShownResult] | None = None,
          error: AwsError | Problem | None = None, status: int = 200) -> Response:
    rows = list(form.context) + [("", "string", "")] * max(1, CONTEXT_ROWS - len(form.context))
    return view.render("simulator.html", section="simulator", title="Policy simulator", status=status, error=error,
                       form=form, results=results, context_rows=rows, context_types=CONTEXT_TYPES,
                       kinds=PRINCIPAL_KINDS, actions=action_names(), names=_principal_names(view),
                       action_slots=[*form.actions, "", "", "", ""][:max(4, len(form.actions))])


def _principal_names(view: View) -> list[str]:
    """Suggestions for the principal's name: the account's users, groups and roles the caller may list (one page
    of each; a list the caller may not read suggests nothing)."""
    names: list[str] = []
    for action, key, member in (("ListUsers", "Users", "UserName"), ("ListGroups", "Groups", "GroupName"),
                                ("ListRoles", "Roles", "RoleName")):
        listed = view.attempt(action, MaxItems=100)
        names += [item[member] for item in (listed.result or {}).get(key) or ()]
    return sorted(set(names), key=str.lower)


def _start(view: View) -> Response:
    kind = view.query.get("kind", "user")
    form = SimulationForm(principal_kind=kind if kind in PRINCIPAL_KINDS else "user",
                          principal_name=view.query.get("name", "")[:128])
    return _page(view, form)


def _simulate(view: View) -> Response:
    form = SimulationForm.from_fields({k: view.form.get(k) for k in ("mode", "principal_kind", "principal_name",
                                                                      "resource_policy", "caller_arn",
                                                                      "resource_owner")}, view.form.getlist)
    caller = view.caller
    assert caller is not None
    try:
        operation, params = request_for(form, caller.partition, caller.account_id)
    except FormProblem as e:
        return _page(view, form, error=Problem("Check the form", "InvalidInput", str(e)), status=400)
    try:
        answer = view.iam(operation, **params)
    except AwsError as e:
        return _page(view, form, error=e, status=e.http_status if e.http_status < 500 else 500)
    evaluated = answer.get("EvaluationResults") or []
    texts = policy_texts(view.call, form, evaluated)
    return _page(view, form, results=shown_results(evaluated, texts))


def routes(console: Console) -> list[BaseRoute]:
    return [console.page(BASE + "/simulator")(_start),
            console.page(BASE + "/simulator", methods=["POST"])(_simulate)]
