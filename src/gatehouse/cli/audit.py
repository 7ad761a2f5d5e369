"""`gatehouse audit verify` and `gatehouse audit export`: the trail checked or written out, from the store `serve`
uses (`--data DIR` or `--db URL`), while the server runs (short read transactions only)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console

from gatehouse.cli.serve import AuditKeyFile, Data, Db
from gatehouse.settings import Settings, SettingsError

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail: verify it, export it.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

AuditKey = AuditKeyFile


def _tools(data: Path, db: str | None, audit_key: Path | None):  # type: ignore[no-untyped-def]
    from gatehouse.app import audit_tools

    try:
        return audit_tools(Settings(data_dir=data, db_url=db, audit_key_file=audit_key))
    except SettingsError as e:
        err.print(f"gatehouse: {e}")
        raise typer.Exit(2) from None


@audit_app.command("verify")
def verify_command(data: Data = Path("data"), db: Db = None, audit_key: AuditKey = None) -> None:
    """Recompute every chain and check every signed digest; report the first modified, deleted, inserted or
    reordered event and exit 1."""
    from gatehouse.services.audit.integrity import verify

    tools = _tools(data, db, audit_key)
    try:
        try:
            public = tools.public_key()
        except SettingsError as e:
            err.print(f"gatehouse: {e}")
            raise typer.Exit(2) from None
        report = verify(tools.store.audit, public)
    finally:
        tools.close()
    if not report.ok:
        out.print(f"TAMPERED: {report.problems[0]}")
        raise typer.Exit(1)
    signed = "no signing key: chains checked, digests' signatures not" if public is None else (
        f"{report.digests} signed digest(s) verified")
    out.print(f"OK: {report.events} event(s) in {report.chains} chain(s); {signed}; "
              f"{report.unsigned} event(s) after the last digest")


def _since(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date or time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@audit_app.command("export")
def export_command(
    since: Annotated[str, typer.Option("--since", help="Events from this ISO 8601 date or time on.")] = "1970-01-01",
    format: Annotated[str, typer.Option("--format", help="jsonl: one CloudTrail record per line, then the signed "
                                                          "digests.")] = "jsonl",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    data: Data = Path("data"), db: Db = None, audit_key: AuditKey = None,
) -> None:
    """Write the trail's records (and its signed digests) for keeping elsewhere."""
    if format != "jsonl":
        err.print(f"gatehouse: unknown format {format!r} (jsonl is the one there is)")
        raise typer.Exit(2)
    start = _since(since)
    tools = _tools(data, db, audit_key)
    stream: TextIO = sys.stdout
    try:
        if out_file is not None:
            stream = out_file.open("w", encoding="utf-8")
        for event in tools.store.audit.events(since=start):
            stream.write(event.record + "\n")
        for d in tools.store.audit.digests():
            stream.write(json.dumps({"gatehouseDigest": d.body, "signature": d.signature}, separators=(",", ":"))
                         + "\n")
    finally:
        if stream is not sys.stdout:
            stream.close()
        tools.close()
