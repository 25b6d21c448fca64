"""``graphlets registry ls|show|promote|rollback|alias``: the model registry from the shell."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from graphlets.cli.common import JsonOpt, StoreOpt, emit_json, handle_errors, out

app = typer.Typer(
    help="Registered models: versions, stages, aliases, rollback.", no_args_is_help=True
)


def _registry(store: Any) -> Any:
    from graphlets.registry import ModelRegistry

    return ModelRegistry(store)


def _open(url: str | None) -> Any:
    from graphlets.store import MetadataStore

    return MetadataStore(url)


def _versions_table(title: str, versions: list[dict[str, Any]]) -> Table:
    t = Table(title=title, title_justify="left")
    for col in ("model", "version", "stage", "aliases", "auc", "model artifact", "description"):
        t.add_column(col)
    for v in versions:
        t.add_row(
            v["name"],
            str(v["version"]),
            v["stage"],
            ", ".join(v["aliases"]),
            f"{v['metrics']['auc']:.3f}" if "auc" in v["metrics"] else "",
            v["model"] or "",
            v["description"],
        )
    return t


@app.command("ls")
@handle_errors
def ls(
    name: Annotated[str | None, typer.Argument(help="Only this model.")] = None,
    all_versions: Annotated[bool, typer.Option("--all", help="Archived versions too.")] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Registered models and their live versions (staging, shadow, canary, production)."""
    with _open(store) as st:
        reg = _registry(st)
        names = [name] if name else reg.models()
        doc = {
            n: [
                v.to_dict()
                for v in reg.versions(n)
                if all_versions or v.stage != "archived" or v.aliases
            ]
            for n in names
        }
        counts = {n: len(reg.versions(n)) for n in names}
    if as_json:
        emit_json({"models": [{"name": n, "versions": counts[n], "live": doc[n]} for n in names]})
        return
    for n in names:
        out.print(_versions_table(f"{n}: {counts[n]} versions", doc[n]))


@app.command("show")
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@STAGE, NAME@ALIAS or NAME/VERSION.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One version (or a model's audit trail when REF is a bare name)."""
    with _open(store) as st:
        reg = _registry(st)
        if "@" in ref or "/" in ref:
            doc: dict[str, Any] = reg.resolve(ref).to_dict()
        else:
            doc = {"name": ref, "history": reg.history(ref)}
    if as_json:
        emit_json(doc)
        return
    if "history" in doc:
        t = Table(title=f"{ref}: audit trail", title_justify="left")
        for col in ("execution", "action", "version", "from", "to", "who", "why"):
            t.add_column(col)
        for h in doc["history"]:
            t.add_row(
                f"execution:{h['execution']}",
                str(h.get("action", "")),
                str(h.get("version", "")),
                str(h.get("from_stage", "")),
                str(h.get("to_stage", "")),
                str(h.get("who", "")),
                str(h.get("why", "")),
            )
        out.print(t)
        return
    for key, value in doc.items():
        out.print(f"[bold]{key}[/]: {value}", highlight=False)


@app.command("promote")
@handle_errors
def promote(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    to: Annotated[str, typer.Option("--to", help="Target stage.")] = "production",
    why: Annotated[str, typer.Option("--why", help="Reason, kept in the audit trail.")] = "",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a version to a stage (production by default; the old production becomes fallback)."""
    with _open(store) as st:
        v = _registry(st).transition(name, version, to, why=why or "manual promotion")
    _done(v.to_dict(), as_json, f"{name}/{version} is now in {v.stage}")


@app.command("rollback")
@handle_errors
def rollback(
    name: Annotated[str, typer.Argument(help="Model name.")],
    why: Annotated[str, typer.Option("--why", help="Reason, kept in the audit trail.")] = "",
    from_version: Annotated[
        int | None,
        typer.Option(
            "--from",
            help="Roll back only if this version is still in production (else exit 1, nothing "
            "written): two people rolling back the same bad version roll back once.",
        ),
    ] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put the fallback version back in production and archive the current one."""
    with _open(store) as st:
        reg = _registry(st)
        v = reg.rollback(name, why=why or "manual rollback", from_version=from_version)
    _done(v.to_dict(), as_json, f"{name}: rolled back to version {v.version}")


@app.command("alias")
@handle_errors
def alias(
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias to set.")],
    version: Annotated[int, typer.Argument(help="Version the alias points at.")],
    why: Annotated[str, typer.Option("--why", help="Reason, kept in the audit trail.")] = "",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point an alias (e.g. ``champion``) at a version; load it as NAME@ALIAS."""
    with _open(store) as st:
        v = _registry(st).set_alias(name, alias_name, version, why=why)
    _done(v.to_dict(), as_json, f"{name}@{alias_name} -> version {v.version}")


def _done(doc: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        emit_json(doc)
    else:
        out.print(message, highlight=False)
