"""The registry views: registered models, one model, one version, and the three writes.

Each read returns one JSON-able document that the page and its ``/api/registry`` twin both render
(:mod:`graphlets.web.pages`). Lists that grow with time are pages read with MLMD list calls, so a
model with thousands of versions or changes costs what a small one costs: models (the
``registered_model`` contexts), a model's versions and its audit trail (the ``RegistryChange``
executions, newest first), and a version's own changes. Writes go through
:class:`graphlets.registry.ModelRegistry`, which records each change and its audit execution in one
transaction holding the model's lock (concurrent requests take turns; a rollback whose
``from_version`` left production meanwhile is a ConflictError, 409); the token was checked
before any of this runs (:mod:`graphlets.web.security`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.model import Artifact, Context, Execution
from graphlets.registry import FALLBACK, STAGES, ModelRegistry, ModelVersion, refs
from graphlets.registry.records import (
    CHANGE_TYPE,
    MODEL_CONTEXT,
    SINGLE_SLOT,
    VERSION_TYPE,
    version_from_artifact,
)
from graphlets.store import ListOptions
from graphlets.store.browse import events_page
from graphlets.web.context import WebContext
from graphlets.web.paging import decode_token, encode_token

RECENT_CHANGES = 5
LIVE_SHOWN = 50  # newest versions in staging shown per model
HELD_SHOWN = 200  # versions holding a single-slot stage or an alias: few by nature
NAMES_LISTED = 10
WEB_ACTOR = "web"


# reads --------------------------------------------------------------------------------------
def registry(ctx: WebContext, *, limit: int, page_token: str | None) -> dict[str, Any]:
    """A page of registered models, each with its live versions, aliases, fallback and newest
    changes; an explicit empty state when the store has no registry."""
    doc: dict[str, Any] = {"stages": list(STAGES), "writable": _writable(ctx)}
    if not _has_registry(ctx):
        return doc | {
            "available": False,
            "message": "no model registry in this store yet: versions appear here once a "
            "pipeline's Pusher registers a model (see docs/howto/registry.md)",
            "models": [],
            "next_page_token": None,
        }
    opts = ListOptions(
        limit=limit, filter_query=f"type = '{MODEL_CONTEXT}'", next_page_token=page_token or None
    )
    contexts, token = ctx.store.list_contexts(opts)
    models = [
        _summary(ctx, c) | {"history": _changes(ctx, c, RECENT_CHANGES, None)[0]} for c in contexts
    ]
    return doc | {"available": True, "message": None, "models": models, "next_page_token": token}


def model(
    ctx: WebContext,
    name: str,
    *,
    limit: int,
    page_token: str | None,
    history_limit: int,
    history_page_token: str | None,
) -> dict[str, Any]:
    """One model: stages, aliases, fallback, a page of its versions (newest first) and a page of
    its audit trail (newest first)."""
    c = _model_context(ctx, name)
    opts = ListOptions(
        limit=limit,
        is_asc=False,
        filter_query=_versions_query(c),
        next_page_token=page_token or None,
    )
    arts, token = ctx.store.list_artifacts(opts)
    history, history_token = _changes(ctx, c, history_limit, history_page_token)
    return _summary(ctx, c) | {
        "stages": list(STAGES),
        "writable": _writable(ctx),
        "versions": [_version_doc(version_from_artifact(a)) for a in arts],
        "next_page_token": token,
        "history": history,
        "history_next_page_token": history_token,
    }


def version(
    ctx: WebContext, name: str, number: int, *, limit: int, page_token: str | None
) -> dict[str, Any]:
    """One version: stage, aliases, tags, signature, metrics, the links to the Model artifact it
    points at and to that model's lineage, and a page of the changes that touched it (oldest
    first)."""
    _model_context(ctx, name)
    v = ModelRegistry(ctx.store).get(name, number)
    kind = f"registry-version-{v.artifact_id}"
    events, last = events_page(
        ctx.store,
        "artifact_id",
        v.artifact_id,
        limit=limit,
        after_id=decode_token(kind, page_token),
    )
    ids = sorted({int(e.execution_id or 0) for e in events})
    found = ctx.store.get_executions_by_id(ids) if ids else []
    changes = [_change(e) for e in sorted(found, key=_id) if e.type == CHANGE_TYPE]
    return _version_doc(v) | {
        "model_name_url": _model_url(name),
        "stages": list(STAGES),
        "history": changes,
        "next_page_token": encode_token(kind, last) if last else None,
    }


# writes -------------------------------------------------------------------------------------
def promote(
    ctx: WebContext, name: str, number: int, stage: str, *, why: str, who: str
) -> dict[str, Any]:
    """Move ``number`` to ``stage``; a single-slot stage's previous occupant is archived and a
    replaced production version becomes the fallback."""
    _model_context(ctx, name)
    reg = ModelRegistry(ctx.store, who=_actor(who))
    v = reg.transition(name, number, stage, why=why or f"moved to {stage} from the web UI")
    return _written(ctx, name, v, f"{name}/{v.version} is now in {v.stage}")


def rollback(
    ctx: WebContext, name: str, *, why: str, who: str, from_version: int | None = None
) -> dict[str, Any]:
    """Put the fallback back in production and archive the current production version; with
    ``from_version``, only while that version is still in production (ConflictError, a 409)."""
    _model_context(ctx, name)
    reg = ModelRegistry(ctx.store, who=_actor(who))
    v = reg.rollback(name, why=why or "rolled back from the web UI", from_version=from_version)
    return _written(ctx, name, v, f"{name}: rolled back to version {v.version} (now in production)")


def set_alias(
    ctx: WebContext, name: str, alias: str, number: int, *, why: str, who: str
) -> dict[str, Any]:
    """Point ``alias`` at ``number`` (moving it off any other version)."""
    _model_context(ctx, name)
    reg = ModelRegistry(ctx.store, who=_actor(who))
    v = reg.set_alias(name, alias, number, why=why or f"alias {alias} set from the web UI")
    return _written(ctx, name, v, f"{name}@{alias} -> version {v.version}")


# helpers ------------------------------------------------------------------------------------
def _writable(ctx: WebContext) -> bool:
    return bool(ctx.settings.token)


def _actor(who: str) -> str:
    """The audit trail's ``who`` for a web write: the token proves the right to write, not an
    identity, so the caller's own name is kept beside where the change came from."""
    return f"{WEB_ACTOR}:{who}" if who else WEB_ACTOR


def _has_registry(ctx: WebContext) -> bool:
    try:
        ctx.store.get_context_type(MODEL_CONTEXT)
    except NotFoundError:
        return False
    return True


def _model_context(ctx: WebContext, name: str) -> Context:
    """The model's context; a name the registry could never have written is not looked up (a
    NUL byte, say, which PostgreSQL refuses in any query)."""
    try:
        refs.check_name(name)
        usable = True
    except InvalidArgumentError:
        usable = False
    found = None
    if usable and _has_registry(ctx):
        found = ctx.store.get_context_by_type_and_name(MODEL_CONTEXT, name)
    if found is None:
        raise NotFoundError(
            f"model {name!r} is not registered in this store: registered models are "
            f"{_some_names(ctx)} (see /registry or `graphlets registry ls`)"
        )
    return found


def _some_names(ctx: WebContext) -> str:
    if not _has_registry(ctx):
        return "none"
    opts = ListOptions(limit=NAMES_LISTED, filter_query=f"type = '{MODEL_CONTEXT}'")
    contexts, more = ctx.store.list_contexts(opts)
    names = ", ".join(repr(str(c.name)) for c in contexts) or "none"
    return names + (", ..." if more else "")


def _versions_query(c: Context, where: str = "") -> str:
    query = f"type = '{VERSION_TYPE}' AND contexts_a.id = {int(c.id or 0)}"
    return f"{query} AND ({where})" if where else query


def _newest_versions(ctx: WebContext, c: Context, where: str, limit: int) -> list[ModelVersion]:
    opts = ListOptions(limit=limit, is_asc=False, filter_query=_versions_query(c, where))
    return [version_from_artifact(a) for a in ctx.store.list_artifacts(opts)[0]]


def _summary(ctx: WebContext, c: Context) -> dict[str, Any]:
    """What a model looks like now: who holds each single-slot stage and each alias (the fallback
    among them), the newest ``LIVE_SHOWN`` versions waiting in staging, the newest version
    number. Read by stage, so an old production version is never crowded out by new ones."""
    name = str(c.name)
    slots = ", ".join(f"'{s}'" for s in SINGLE_SLOT)
    held = _newest_versions(
        ctx,
        c,
        f"custom_properties.stage.string_value IN ({slots})"
        " OR custom_properties.aliases.string_value != '[]'",
        HELD_SHOWN,
    )
    staged = _newest_versions(
        ctx, c, "custom_properties.stage.string_value = 'staging'", LIVE_SHOWN
    )
    live = sorted({v.version: v for v in [*held, *staged]}.values(), key=lambda v: -v.version)
    newest = _newest_versions(ctx, c, "", 1)
    stages = {s: [v.version for v in live if v.stage == s] for s in STAGES if s != "archived"}
    aliases = {a: v.version for v in live for a in v.aliases}
    production = stages["production"][0] if stages["production"] else None
    fallback = aliases.get(FALLBACK)
    return {
        "name": name,
        "url": _model_url(name),
        "context": f"context:{c.id}",
        "latest_version": newest[0].version if newest else None,
        "production": production,
        "fallback": fallback,
        "can_rollback": production is not None and fallback not in (None, production),
        "by_stage": stages,
        "aliases": dict(sorted(aliases.items())),
        "live": [_version_doc(v) for v in live],
    }


def _changes(
    ctx: WebContext, c: Context, limit: int, page_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a model's audit trail, newest first."""
    opts = ListOptions(
        limit=limit,
        is_asc=False,
        filter_query=f"type = '{CHANGE_TYPE}' AND contexts_a.id = {int(c.id or 0)}",
        next_page_token=page_token or None,
    )
    execs, token = ctx.store.list_executions(opts)
    return [_change(e) for e in execs], token


def _change(e: Execution) -> dict[str, Any]:
    """One audit record: when, who, why, what (action, version, stages, alias)."""
    props = {k: v for k, v in e.custom_properties.items()}
    return {
        "execution": f"execution:{e.id}",
        "url": f"/executions/{e.id}",
        "time_ms": e.create_time_since_epoch,
        "action": str(props.pop("action", "")),
        "version": props.pop("version", None),
        "who": str(props.pop("who", "")),
        "why": str(props.pop("why", "")),
        "from_stage": props.pop("from_stage", None),
        "to_stage": props.pop("to_stage", None),
        "alias": props.pop("alias", None),
        "details": props,
    }


def _version_doc(v: ModelVersion) -> dict[str, Any]:
    """A version as JSON (the CLI's shape) with the links the pages follow."""
    doc = v.to_dict()
    doc["url"] = f"{_model_url(v.name)}/versions/{v.version}"
    doc["artifact_url"] = f"/artifacts/{v.artifact_id}"
    doc["model_url"] = f"/artifacts/{v.model_artifact_id}" if v.model_artifact_id else None
    doc["lineage_url"] = (
        f"/lineage?start=artifact:{v.model_artifact_id}&direction=up&hops=4"
        if v.model_artifact_id
        else None
    )
    doc["pushed_model_url"] = f"/artifacts/{v.pushed_artifact_id}" if v.pushed_artifact_id else None
    doc["ref"] = v.ref
    return doc


def _written(ctx: WebContext, name: str, v: ModelVersion, message: str) -> dict[str, Any]:
    """A write's answer: what happened, the version it left, and the model as it is now."""
    c = _model_context(ctx, name)
    return {"message": message, "version": _version_doc(v), "model": _summary(ctx, c)}


def _model_url(name: str) -> str:
    return f"/registry/{quote(name, safe='')}"


def _id(node: Artifact | Execution) -> int:
    return int(node.id or 0)
