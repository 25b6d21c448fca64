"""``graphlets.load_model("churn@production")``: a registered model, ready to predict.

The payload is read by content (sha256) from the blob store when it is there, else from the
version's URI; it is unpickled, so load only models your own pipelines registered.
"""

from __future__ import annotations

import pickle
from typing import Any

import fsspec

from graphlets.errors import NotFoundError
from graphlets.registry.records import ModelVersion
from graphlets.registry.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore, default_blob_url


def read_payload(version: ModelVersion, blobs: BlobStore) -> bytes:
    """The model bytes of ``version``."""
    if version.content_sha256 and blobs.exists(version.content_sha256):
        return blobs.get_bytes(version.content_sha256)
    if version.model_uri:
        try:
            with fsspec.open(version.model_uri, "rb") as fh:
                return bytes(fh.read())
        except FileNotFoundError:
            pass
    raise NotFoundError(
        f"the payload of model {version.ref} is gone (deleted by `graphlets gc`?): promote "
        "or roll back to a version whose payload is kept"
    )


def load_model(
    ref: str, store: MetadataStore | str | None = None, *, blobs: BlobStore | str | None = None
) -> Any:
    """Load a registered model: ``NAME@STAGE``, ``NAME@ALIAS``, ``NAME/N`` or ``models:/...``.

    Args:
        ref: the reference.
        store: an open store, a store URL, or None for ``GRAPHLETS_STORE`` / the default store.
        blobs: where payloads live (default: beside the store).
    """
    if isinstance(store, MetadataStore):
        return _load(store, ref, blobs)
    with MetadataStore(store) as opened:
        return _load(opened, ref, blobs)


def _load(store: MetadataStore, ref: str, blobs: BlobStore | str | None) -> Any:
    version = ModelRegistry(store).resolve(ref)
    bs = (
        blobs
        if isinstance(blobs, BlobStore)
        else BlobStore(blobs or default_blob_url(store.url.text))
    )
    return pickle.loads(read_payload(version, bs))
