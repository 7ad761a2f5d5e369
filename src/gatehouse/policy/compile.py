"""Policies compiled once into matchers indexed by action, cached by content.

A `CompiledStatement` holds the statement's action patterns, a resource matcher (set membership, `startswith` or one
regular expression, whichever is exact and cheapest), its compiled conditions and principal matchers. A
`CompiledPolicy` indexes statements by service prefix and memoises, per action name, which statements can apply, so
the cost of a decision does not grow with statements that name other actions. (Whole decisions are never
memoised: conditions and resources are always evaluated against the request.)

`Compiler` owns a bounded cache keyed by the policy's content hash; the server keeps one. `compile_policy` is the
same over a small process-wide `functools.lru_cache` of this pure function of an immutable policy.
"""

from __future__ import annotations

import functools
import operator
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .conditions import ConditionFn, compile_condition
from .document import ConditionClause, Effect, Policy, Statement
from .patterns import ActionPattern, ArnPattern
from .principals import PrincipalMatcher

MatchFn = Callable[[Any, list[str] | None], bool]

_MEMO_LIMIT = 4096


class CompiledStatement:
    """One statement, ready to be tested against request contexts.

    Action patterns are compiled up front (they build the action index). The resource test and the conditions are
    compiled on first use, when the statement first becomes a candidate for some action: in a large policy set
    most statements never are, for a given workload, and cost nothing beyond parsing.
    """

    __slots__ = ("_index_prefixes", "_match", "actions", "any_service", "deny", "not_action", "not_principal",
                 "principal", "services", "statement", "variables")

    def __init__(self, statement: Statement, *, variables: bool) -> None:
        self.statement = statement
        self.variables = variables
        self.deny = statement.effect is Effect.DENY
        self.not_action = statement.actions is None
        patterns = statement.actions if statement.actions is not None else statement.not_actions or ()
        self.actions = [_action_pattern(a) for a in patterns]
        services = {a.service for a in self.actions}
        self.any_service = self.not_action or None in services
        self.services = frozenset(s for s in services if s is not None)
        self.principal = PrincipalMatcher(statement.principal) if statement.principal is not None else None
        self.not_principal = (PrincipalMatcher(statement.not_principal)
                              if statement.not_principal is not None else None)
        self._match: MatchFn | None = None
        self._index_prefixes: list[str] | None = None

    def _compile(self) -> MatchFn:
        conditions = tuple(_condition(c, self.variables) for c in self.statement.conditions)
        resource_test, self._index_prefixes = _resource_test(self.statement, self.variables)
        self._match = _statement_matcher(resource_test, conditions)
        return self._match

    @property
    def match(self) -> MatchFn:
        """`match(ctx, missing) -> truthy` when the resource and every condition match (action not included)."""
        return self._match or self._compile()

    @property
    def index_prefixes(self) -> list[str] | None:
        """Literal starts of the resource part of every Resource pattern; None when the statement is unindexable."""
        if self._match is None:
            self._compile()
        return self._index_prefixes

    def conditions_once(self) -> MatchFn:
        """A matcher for a series of requests that share every condition key and differ only in action and
        resource (the simulator's action × resource pairs): the resource is tested per request, the conditions
        (which read only keys) on first use, then remembered with the keys they found missing. Make one per series.
        """
        if not self.statement.conditions:
            return self.match
        conditions = tuple(_condition(c, self.variables) for c in self.statement.conditions)
        resource_only = _statement_matcher(_resource_test(self.statement, self.variables)[0], ())
        remembered: list[tuple[bool, list[str]]] = []

        def match(ctx: Any, missing: list[str] | None) -> bool:
            if not resource_only(ctx, missing):
                return False
            if not remembered:
                found: list[str] = []
                remembered.append((all(c(ctx, found) for c in conditions), found))
            ok, found = remembered[0]
            if found and missing is not None:
                missing.extend(found)
            return ok
        return match

    def matches_action(self, action_lc: str) -> bool:
        hit = any(p.matches(action_lc) for p in self.actions)
        return hit != self.not_action


ResourceTest = tuple[str, Callable[..., Any] | None]

# Patterns and conditions are immutable functions of their text (their only state is a memo of compiled forms), so
# equal ones are shared between statements and policies: large policy sets repeat them a lot.
_action_pattern = functools.lru_cache(maxsize=8192)(ActionPattern)


@functools.lru_cache(maxsize=8192)
def _arn_pattern(text: str, variables: bool) -> ArnPattern:
    return ArnPattern(text, variables=variables)


@functools.lru_cache(maxsize=4096)
def _condition(clause: ConditionClause, variables: bool) -> ConditionFn:
    return compile_condition(clause, variables=variables)



def _resource_test(statement: Statement, variables: bool) -> tuple[ResourceTest, list[str] | None]:
    """How to test the request's resource, and the literal starts of the resource part for indexing (None: none).

    The test is `(mode, fn)`: mode "any" (no test), "str" (`fn(resource)`, usually a C-level callable such as
    `frozenset.__contains__` or a compiled pattern's `fullmatch`), "not_str" (its negation, for NotResource) or
    "ctx" (`fn(ctx)`, when policy variables must be substituted first).
    """
    if statement.resources is None and statement.not_resources is None:  # role trust policy: no resource
        return ("any", None), None
    negate = statement.resources is None
    texts = statement.resources if statement.resources is not None else statement.not_resources or ()
    patterns = [_arn_pattern(t, variables) for t in texts]
    prefixes = None if negate or any(p.index_prefix is None for p in patterns) else [
        p.index_prefix for p in patterns if p.index_prefix is not None]
    if any(p.kind == "all" for p in patterns):
        return (("str", lambda r: False) if negate else ("any", None)), prefixes
    if any(p.kind == "template" for p in patterns):
        def dynamic(ctx: Any) -> bool:
            # An entry whose variable has no value matches no resource ("Policy variables with no value"), so it
            # excludes nothing from a NotResource either.
            for p in patterns:
                if p.matches(ctx.resource, ctx.keys):
                    return not negate
            return negate
        return ("ctx", dynamic), prefixes
    exact = frozenset(p.text for p in patterns if p.kind == "exact")
    starts = tuple(p.prefix for p in patterns if p.kind == "prefix")
    regex_patterns = [p for p in patterns if p.kind == "regex"]
    segmented = [p.match_segments for p in patterns if p.kind == "segments"]
    test: Callable[[str], Any]
    if regex_patterns or segmented:
        combined = _LazyRegex(regex_patterns) if regex_patterns else (lambda r: False)
        if not segmented and not exact and not starts:
            test = combined
        elif not regex_patterns and len(segmented) == 1 and not exact and not starts:
            test = segmented[0]
        else:
            test = lambda r: (r in exact or r.startswith(starts) or any(m(r) for m in segmented)  # noqa: E731
                              or combined(r))
    elif not exact:
        test = operator.methodcaller("startswith", starts)
    elif not starts:
        test = exact.__contains__
    else:
        test = lambda r: r in exact or r.startswith(starts)  # noqa: E731
    return ("not_str" if negate else "str", test), prefixes


class _LazyRegex:
    """A full-match test compiled on first call: compiling every pattern up front would dominate compile time."""

    __slots__ = ("fullmatch", "patterns")

    def __init__(self, patterns: list[ArnPattern]) -> None:
        self.patterns = patterns
        self.fullmatch: Callable[[str], Any] | None = None

    def __call__(self, text: str) -> Any:
        if self.fullmatch is None:
            source = "|".join(f"(?:{p.regex_source})" for p in self.patterns)
            self.fullmatch = re.compile(source, re.DOTALL).fullmatch
        return self.fullmatch(text)


def _statement_matcher(resource: ResourceTest, conditions: tuple[ConditionFn, ...]) -> MatchFn:
    """Resource AND every condition (keys and operators are AND'd); flat closures, one Python frame per test."""
    mode, fn = resource
    if mode == "any":
        base: Callable[[Any], Any] = lambda ctx: True  # noqa: E731
    elif mode == "ctx":
        base = fn  # type: ignore[assignment]
    elif mode == "not_str":
        test = fn
        base = lambda ctx: not test(ctx.resource)  # type: ignore[misc]  # noqa: E731
    else:
        test = fn
        if not conditions:
            return lambda ctx, missing: test(ctx.resource)  # type: ignore[misc]
        if len(conditions) == 1:
            (c0,) = conditions
            return lambda ctx, missing: test(ctx.resource) and c0(ctx, missing)  # type: ignore[misc]
        if len(conditions) == 2:
            c0, c1 = conditions
            return lambda ctx, missing: test(ctx.resource) and c0(ctx, missing) and c1(ctx, missing)  # type: ignore[misc]
        base = lambda ctx: test(ctx.resource)  # type: ignore[misc]  # noqa: E731
    if not conditions:
        return lambda ctx, missing: base(ctx)
    if len(conditions) == 1:
        (c0,) = conditions
        return lambda ctx, missing: base(ctx) and c0(ctx, missing)
    return lambda ctx, missing: base(ctx) and all(c(ctx, missing) for c in conditions)


def estimate_bytes(policy: Policy) -> int:
    """Memory a parsed and compiled policy holds, roughly: measured at about 28 bytes per character of its text
    (patterns, statements, matchers), plus a fixed part; for a policy built by hand, per statement."""
    if policy.text is not None:
        return 2048 + 32 * len(policy.text)
    return 2048 + 4096 * len(policy.statements)


class CompiledPolicy:
    """A policy's statements indexed by service prefix, with a per-action memo of candidate statements."""

    __slots__ = ("__weakref__", "_memo", "any_service", "by_service", "estimated_bytes", "policy", "statements")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        variables = policy.variables_enabled
        self.statements = tuple(CompiledStatement(s, variables=variables) for s in policy.statements)
        by_service: dict[str, list[CompiledStatement]] = {}
        for cs in self.statements:
            for service in cs.services:
                by_service.setdefault(service, []).append(cs)
        self.by_service = {k: tuple(v) for k, v in by_service.items()}
        self.any_service = tuple(cs for cs in self.statements if cs.any_service)
        self._memo: dict[str, tuple[CompiledStatement, ...]] = {}
        self.estimated_bytes = estimate_bytes(policy)

    @property
    def digest(self) -> str:
        return self.policy.digest

    def candidates(self, action_lc: str, service: str) -> tuple[CompiledStatement, ...]:
        """Statements whose Action/NotAction applies to `action_lc`, in document order."""
        hit = self._memo.get(action_lc)
        if hit is not None:
            return hit
        pool = set(self.by_service.get(service, ())) | set(self.any_service)
        found = tuple(cs for cs in self.statements if cs in pool and cs.matches_action(action_lc))
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[action_lc] = found
        return found


class Compiler:
    """Compiles policies, cached by content hash and bounded by estimated bytes; one per server, shared by threads.

    Besides its LRU, it finds by digest any compiled policy still alive elsewhere (held by a cached policy set),
    so one policy is compiled once however many principals and revisions hold it, even after the LRU let it go.
    """

    def __init__(self, maxsize: int = 1024, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._cache: OrderedDict[str, CompiledPolicy] = OrderedDict()
        self._bytes = 0
        self._alive: weakref.WeakValueDictionary[str, CompiledPolicy] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def compile(self, policy: Policy) -> CompiledPolicy:
        digest = policy.digest
        if not digest:  # built by hand, not parsed from text: nothing to share it by
            return CompiledPolicy(policy)
        with self._lock:
            compiled = self._cache.get(digest)
            if compiled is not None:
                self._cache.move_to_end(digest)
                return compiled
            compiled = self._alive.get(digest)
        if compiled is None:
            compiled = CompiledPolicy(policy)  # outside the lock: compiling can take a while
        with self._lock:
            if digest in self._cache:  # another thread got there first: share its copy
                self._cache.move_to_end(digest)
                return self._cache[digest]
            self._cache[digest] = compiled
            self._alive[digest] = compiled
            self._bytes += compiled.estimated_bytes
            while self._cache and (len(self._cache) > self.maxsize or self._bytes > self.max_bytes):
                _, dropped = self._cache.popitem(last=False)
                self._bytes -= dropped.estimated_bytes
        return compiled

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def estimated_bytes(self) -> int:
        return self._bytes


@functools.lru_cache(maxsize=256)
def compile_policy(policy: Policy) -> CompiledPolicy:
    """Compile `policy` (cached by content hash; prefer a `Compiler` owned by the application)."""
    return CompiledPolicy(policy)
