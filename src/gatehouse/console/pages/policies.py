"""Policies: managed policies (AWS's and the account's) with their versions, diffs and attachments; the inline
policies of users, groups and roles; the policy editor's live validation endpoint.

Every change is the AWS operation of that change, made as the signed-in principal (`View.iam`), so the console
refuses what the API refuses, with the same message. Documents are checked by the policy engine twice: as typed
(`POST /console/api/validate-policy`, located findings for the editor) and when saved (the operation itself; a
refused save shows the same located findings, so the page works without JavaScript).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gatehouse.errors import AwsError, NoSuchEntity

from ..policy_feedback import EditorKind, Finding, check_document
from ..policy_text import diff, document_text, numbered, pretty
from ..session import COOKIE, BrowserFacts, caller_for
from ..web import BASE, CSRF_COOKIE, CSRF_COOKIE_HTTPS, Console, View

PAGE_SIZE = 50
SCOPES = (("All", "All policies"), ("AWS", "AWS managed"), ("Local", "Customer managed"))
KINDS = {"user": "User", "group": "Group", "role": "Role"}
STARTER = ('{\n    "Version": "2012-10-17",\n    "Statement": [\n        {\n            "Effect": "Allow",\n'
           '            "Action": [],\n            "Resource": "*"\n        }\n    ]\n}')
MAX_VALIDATE_BODY = 300_000  # a document of MAX_DOCUMENT_CHARS, JSON-escaped, with room


def policy_url(arn: str, **query: str) -> str:
    """The detail page of a managed policy (its ARN in the path: colons and slashes need no escaping there)."""
    url = f"{BASE}/policies/view/{urllib.parse.quote(arn, safe=':/')}"
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def inline_url(kind: str, owner: str, policy: str | None = None) -> str:
    url = f"{BASE}/policies/inline/{kind}/{urllib.parse.quote(owner, safe='')}"
    return url + (f"/{urllib.parse.quote(policy, safe='')}" if policy else "")


def entity_url(kind: str, name: str) -> str:
    """The identities pages' detail page of a user, group or role."""
    return f"{BASE}/{kind}s/{urllib.parse.quote(name, safe='')}"


def _validate_answer(console: Console, request: Request, body: bytes) -> Response:
    """The editor's live check: located errors and warnings for a document, for a signed-in browser whose
    request carries the CSRF token (header `X-CSRF-Token`) of its session. Reads nothing from the account."""
    client = request.client
    facts = BrowserFacts(source_ip=client.host if client else "",
                         user_agent=request.headers.get("user-agent", "")[:256],
                         secure=request.url.scheme == "https", host=request.headers.get("host", ""))
    caller = caller_for(console.deps, request.cookies.get(COOKIE, ""), facts)
    if caller is None:
        return JSONResponse({"error": "Sign in to the console first."}, status_code=401)
    nonce = request.cookies.get(CSRF_COOKIE_HTTPS if request.url.scheme == "https" else CSRF_COOKIE, "")
    if not console.csrf_valid(nonce, caller, request.headers.get("x-csrf-token", "")):
        return JSONResponse({"error": "The request did not carry this session's security token."}, status_code=403)
    try:
        asked = json.loads(body)
        document, kind = asked["document"], EditorKind(asked.get("kind", "managed"))
        if not isinstance(document, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": 'Send {"document": "...", "kind": "managed|inline|trust|simulation"}.'},
                            status_code=400)
    findings = check_document(document, kind)
    return JSONResponse({"valid": not any(f.severity == "error" for f in findings),
                         "findings": [f.as_json() for f in findings]})


def validate_route(console: Console) -> Route:
    async def endpoint(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "Send application/json."}, status_code=415)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_VALIDATE_BODY:
                return JSONResponse({"error": "The document is too large."}, status_code=413)
        return await run_in_threadpool(_validate_answer, console, request, body)

    return Route(BASE + "/api/validate-policy", endpoint, methods=["POST"])


# --- the managed policy list -------------------------------------------------------------------------------------

def _listing(view: View) -> Response:
    q = view.query.get("q", "").strip()
    scope = view.query.get("scope", "All")
    scope = scope if scope in dict(SCOPES) else "All"
    attached = view.query.get("attached") == "1"
    params: dict[str, Any] = {"Scope": scope, "OnlyAttached": attached or None}
    next_url = None
    if q:
        # ListPolicies has no name filter: read every page (some 1,600 AWS managed policies plus the account's)
        # and page the matches here.
        everything = view.all_pages("ListPolicies", "Policies", **params, MaxItems=1000)
        wanted = q.lower()
        matches = [p for p in everything if wanted in p["PolicyName"].lower()]
        # The name typed first, then names starting with it, then the rest (each by name).
        matches.sort(key=lambda p: (p["PolicyName"].lower() != wanted,
                                    not p["PolicyName"].lower().startswith(wanted), p["PolicyName"].lower()))
        start = _int(view.query.get("start"))
        policies = matches[start:start + PAGE_SIZE]
        if start + PAGE_SIZE < len(matches):
            next_url = _list_url(q=q, scope=scope, attached=attached, start=str(start + PAGE_SIZE))
        total: int | None = len(matches)
    else:
        page = view.iam("ListPolicies", **params, MaxItems=PAGE_SIZE, Marker=view.query.get("marker") or None)
        policies = page.get("Policies") or []
        if page.get("IsTruncated") and page.get("Marker"):
            next_url = _list_url(scope=scope, attached=attached, marker=page["Marker"])
        total = None
    first_url = _list_url(q=q, scope=scope, attached=attached) if (view.query.get("start") or
                                                                   view.query.get("marker")) else None
    rows = [{"name": p["PolicyName"], "arn": p["Arn"], "url": policy_url(p["Arn"]),
             "aws": ":aws:policy/" in p["Arn"], "attachments": p.get("AttachmentCount", 0),
             "boundaries": p.get("PermissionsBoundaryUsageCount", 0),
             "updated": p.get("UpdateDate")} for p in policies]
    return view.render("policies/list.html", section="policies", title="Policies", rows=rows, q=q, scope=scope,
                       scopes=SCOPES, attached=attached, next_url=next_url, first_url=first_url, total=total)


def _list_url(*, attached: bool, **query: str) -> str:
    wanted = {k: v for k, v in query.items() if v}
    if attached:
        wanted["attached"] = "1"
    return f"{BASE}/policies?" + urllib.parse.urlencode(wanted)


def _int(value: str | None) -> int:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 7 else 0


# --- creating ----------------------------------------------------------------------------------------------------

def _create_form(view: View, *, error: AwsError | None = None, findings: list[Finding] | None = None,
                 status: int = 200) -> Response:
    return view.render("policies/create.html", section="policies", title="Create policy", status=status,
                       error=error, findings=findings or [],
                       name=view.form.get("policy_name"), path_value=view.form.get("path"),
                       description=view.form.get("description"),
                       document=view.form.get("policy_document") if "policy_document" in view.form else STARTER)


def _create(view: View) -> Response:
    document = view.form.get("policy_document")
    try:
        created = view.iam("CreatePolicy", PolicyName=view.form.get("policy_name").strip(),
                           PolicyDocument=document, Path=view.form.optional("path"),
                           Description=view.form.optional("description"))
    except AwsError as e:
        # The operation decides (authorization first, then the document); the findings locate its objection.
        located = check_document(document, EditorKind.MANAGED) if e.code == "MalformedPolicyDocument" else []
        return _create_form(view, error=e, findings=located, status=e.http_status if e.http_status < 500 else 500)
    arn = created["Policy"]["Arn"]
    return view.redirect(policy_url(arn), flash=f"Policy {created['Policy']['PolicyName']} created.")


# --- one managed policy ------------------------------------------------------------------------------------------

def _detail(view: View) -> Response:
    arn = view.params["arn"]
    tab = view.query.get("tab", "document")
    policy = view.iam("GetPolicy", PolicyArn=arn)["Policy"]
    aws = policy.get("Arn", "").split(":")[4:5] == ["aws"]
    versions = view.all_pages("ListPolicyVersions", "Versions", PolicyArn=arn)
    version_ids = [v["VersionId"] for v in versions]
    context: dict[str, Any] = {"policy": policy, "arn": arn, "aws": aws, "versions": versions, "tab": tab,
                               "version_ids": version_ids, "url": policy_url(arn)}
    if tab == "versions":
        context["new_document"] = view.form.get("policy_document") if "policy_document" in view.form else ""
    elif tab == "entities":
        context["entities"] = _entities(view, arn)
        context["entity_url"] = entity_url
    elif tab == "diff":
        default = policy.get("DefaultVersionId", "v1")
        older = [v for v in version_ids if v != default]
        left = view.query.get("from") or (older[0] if older else default)
        right = view.query.get("to") or default
        rows = diff(_version_text(view, arn, left), _version_text(view, arn, right)) if left != right else []
        context.update(left=left, right=right, rows=rows, same=left == right)
    else:
        shown = view.query.get("version") or policy.get("DefaultVersionId", "v1")
        text = pretty(_version_text(view, arn, shown))
        context.update(shown=shown, lines=numbered(text))
    return view.render("policies/detail.html", section="policies", title=policy.get("PolicyName", "Policy"),
                       **context)


def _entities(view: View, arn: str) -> list[tuple[str, str]]:
    """Every user, group and role the policy is attached to (ListEntitiesForPolicy, all pages)."""
    found: list[tuple[str, str]] = []
    params: dict[str, Any] = {"PolicyArn": arn, "MaxItems": 1000}
    for _ in range(100):
        page = view.iam("ListEntitiesForPolicy", **params)
        found += [("group", g["GroupName"]) for g in page.get("PolicyGroups") or ()]
        found += [("user", u["UserName"]) for u in page.get("PolicyUsers") or ()]
        found += [("role", r["RoleName"]) for r in page.get("PolicyRoles") or ()]
        if not page.get("IsTruncated") or not page.get("Marker"):
            break
        params["Marker"] = page["Marker"]
    return found


def _version_text(view: View, arn: str, version_id: str) -> str:
    found = view.iam("GetPolicyVersion", PolicyArn=arn, VersionId=version_id)["PolicyVersion"]
    return document_text(found.get("Document") or "")


def _new_version(view: View) -> Response:
    arn = view.form.get("policy_arn")
    document = view.form.get("policy_document")
    try:
        made = view.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=document,
                        SetAsDefault=view.form.get("set_as_default") == "true")
    except AwsError as e:
        located = check_document(document, EditorKind.MANAGED) if e.code == "MalformedPolicyDocument" else []
        policy = None
        try:
            policy = view.iam("GetPolicy", PolicyArn=arn)["Policy"]
        except AwsError:
            pass
        return view.render("policies/new_version.html", section="policies", title="New policy version",
                           status=e.http_status if e.http_status < 500 else 500, error=e, findings=located,
                           arn=arn, policy=policy, document=document, url=policy_url(arn))
    version = made["PolicyVersion"]["VersionId"]
    return view.redirect(policy_url(arn, tab="versions"), flash=f"Version {version} created.")


def _version_action(view: View, action: str, done: str) -> Response:
    arn, version = view.form.get("policy_arn"), view.form.get("version_id")
    view.iam(action, PolicyArn=arn, VersionId=version)
    return view.redirect(policy_url(arn, tab="versions"), flash=done.format(version=version))


def _delete_policy(view: View) -> Response:
    arn = view.form.get("policy_arn")
    view.iam("DeletePolicy", PolicyArn=arn)
    return view.redirect(f"{BASE}/policies", flash=f"Policy {arn} deleted.")


def _attachment(view: View, verb: str) -> Response:
    arn, kind, name = view.form.get("policy_arn"), view.form.get("entity_kind"), view.form.get("entity_name").strip()
    noun = KINDS.get(kind)
    if noun is None:
        return view.redirect(policy_url(arn, tab="entities"), flash="Choose a user, a group or a role.")
    view.iam(f"{verb}{noun}Policy", **{f"{noun}Name": name, "PolicyArn": arn})
    back = view.form.get("back")
    target = back if back.startswith(BASE + "/") else policy_url(arn, tab="entities")
    word = "attached to" if verb == "Attach" else "detached from"
    return view.redirect(target, flash=f"Policy {arn.rsplit('/', 1)[-1]} {word} {kind} {name}.")


# --- inline policies ---------------------------------------------------------------------------------------------

def _owner(view: View) -> tuple[str, str, str]:
    kind = view.params["kind"]
    if kind not in KINDS:
        raise NoSuchEntity("There is no such kind of identity: use user, group or role.")
    return kind, KINDS[kind], view.params["name"]


def _inline_list(view: View) -> Response:
    kind, noun, owner = _owner(view)
    names = view.all_pages(f"List{noun}Policies", "PolicyNames", **{f"{noun}Name": owner})
    return view.render("policies/inline_list.html", section="policies", title=f"Inline policies of {owner}",
                       kind=kind, owner=owner, names=names, inline_url=inline_url, owner_url=entity_url(kind, owner))


def _inline_view(view: View, *, error: AwsError | None = None, findings: list[Finding] | None = None,
                 status: int = 200, creating: bool = False) -> Response:
    kind, noun, owner = _owner(view)
    policy_name = "" if creating else view.params["policy"]
    document = view.form.get("policy_document") if "policy_document" in view.form else None
    lines = None
    if document is None and not creating:
        got = view.iam(f"Get{noun}Policy", **{f"{noun}Name": owner, "PolicyName": policy_name})
        document = pretty(document_text(got["PolicyDocument"]))
        lines = numbered(document)
    return view.render("policies/inline.html", section="policies", status=status, error=error,
                       title=f"Inline policy {policy_name}" if policy_name else "New inline policy",
                       kind=kind, owner=owner, policy_name=policy_name or view.form.get("policy_name"),
                       creating=creating, document=document if document is not None else STARTER, lines=lines,
                       findings=findings or [], inline_url=inline_url, owner_url=entity_url(kind, owner))


def _inline_put(view: View) -> Response:
    kind, noun, owner = _owner(view)
    creating = "policy" not in view.params
    policy_name = view.form.get("policy_name").strip() if creating else view.params["policy"]
    document = view.form.get("policy_document")
    try:
        view.iam(f"Put{noun}Policy", **{f"{noun}Name": owner, "PolicyName": policy_name, "PolicyDocument": document})
    except AwsError as e:
        located = check_document(document, EditorKind.INLINE) if e.code == "MalformedPolicyDocument" else []
        return _inline_view(view, error=e, findings=located, status=e.http_status if e.http_status < 500 else 500,
                            creating=creating)
    return view.redirect(inline_url(kind, owner, policy_name), flash=f"Inline policy {policy_name} saved.")


def _inline_delete(view: View) -> Response:
    kind, noun, owner = _owner(view)
    policy_name = view.params["policy"]
    view.iam(f"Delete{noun}Policy", **{f"{noun}Name": owner, "PolicyName": policy_name})
    return view.redirect(inline_url(kind, owner), flash=f"Inline policy {policy_name} deleted.")


def routes(console: Console) -> list[BaseRoute]:
    page = console.page
    found: list[BaseRoute] = [
        page(BASE + "/policies")(_listing),
        page(BASE + "/policies/create")(lambda view: _create_form(view)),
        page(BASE + "/policies/create", methods=["POST"])(_create),
        page(BASE + "/policies/view/{arn:path}")(_detail),
        page(BASE + "/policies/versions", methods=["POST"])(_new_version),
        page(BASE + "/policies/set-default", methods=["POST"])(
            lambda view: _version_action(view, "SetDefaultPolicyVersion", "Version {version} is now the default.")),
        page(BASE + "/policies/delete-version", methods=["POST"])(
            lambda view: _version_action(view, "DeletePolicyVersion", "Version {version} deleted.")),
        page(BASE + "/policies/delete", methods=["POST"])(_delete_policy),
        page(BASE + "/policies/attach", methods=["POST"])(lambda view: _attachment(view, "Attach")),
        page(BASE + "/policies/detach", methods=["POST"])(lambda view: _attachment(view, "Detach")),
        page(BASE + "/policies/inline/{kind}/{name}")(_inline_list),
        page(BASE + "/policies/inline/{kind}/{name}", methods=["POST"])(_inline_put),
        page(BASE + "/policies/inline-new/{kind}/{name}")(lambda view: _inline_view(view, creating=True)),
        page(BASE + "/policies/inline/{kind}/{name}/{policy}")(_inline_view),
        page(BASE + "/policies/inline/{kind}/{name}/{policy}", methods=["POST"])(_inline_put),
        page(BASE + "/policies/inline/{kind}/{name}/{policy}/delete", methods=["POST"])(_inline_delete),
        validate_route(console),
    ]
    return found
