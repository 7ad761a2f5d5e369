"""`gatehouse policy validate FILE...` and `gatehouse eval`: the policy engine for pipelines, offline.

Thin on purpose: the rules live in `gatehouse.policy` (`validate`, `evalcase`); this module reads files and
standard input, prints, and maps outcomes to exit codes.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from gatehouse.policy import Compiler, PolicyKind, validate
from gatehouse.policy.evalcase import evaluate_line

policy_app = typer.Typer(help="Work with IAM policy documents.", no_args_is_help=True)


class Kind(StrEnum):
    identity = "identity"
    resource = "resource"
    trust = "trust"
    scp = "scp"
    rcp = "rcp"
    boundary = "boundary"
    session = "session"


@policy_app.command("validate")
def validate_command(
    files: list[Path] = typer.Argument(..., help="Policy documents (JSON) to check."),
    kind: Kind = typer.Option(Kind.identity, "--kind", help="What the documents are for."),
) -> None:
    """Check policy documents; print every problem with its location. Exit 1 if any file is invalid."""
    failed = False
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            typer.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
            failed = True
            continue
        problems = validate(text, kind=PolicyKind(kind.value))
        if not problems:
            typer.echo(f"{path}: valid {kind.value} policy")
            continue
        failed = True
        for d in problems:
            where = f"{path}:{d.line}:{d.column}" if d.line is not None else f"{path}"
            detail = f" ({d.detail})" if d.detail else ""
            typer.echo(f"{where}: {d.path or '/'}: {d.message}{detail} [{d.code}]")
    raise typer.Exit(1 if failed else 0)


def eval_command(
    strict: bool = typer.Option(False, "--strict", help="Refuse documents that break a rule IAM applies only when "
                                "it stores a policy (an error line instead of a decision with warnings)."),
) -> None:
    """Decide JSON Lines evaluation cases from standard input, one JSON line out per line in.

    Input and output format: docs/eval.md in the Gatehouse repository.

    Documents breaking only a rule IAM applies when storing a policy are decided, with "warnings" (--strict: error).

    Exit 1 if any line could not be decided.
    """
    compiler = Compiler()
    failed = False
    out = sys.stdout
    for line in sys.stdin:
        result = evaluate_line(line, compiler=compiler, strict=strict)
        failed = failed or "error" in result
        out.write(json.dumps(result) + "\n")
        out.flush()
    raise typer.Exit(1 if failed else 0)
