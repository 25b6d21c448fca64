"""A content-addressed blob store over fsspec: artifact payloads, written once.

A payload lives at ``ROOT/sha256[:2]/sha256`` (Metaflow's layout), so equal bytes are stored once
and a path names its content. ``ROOT`` is any fsspec URL: a local folder (the default),
``memory://`` for tests, ``s3://bucket/prefix`` for a cluster. On a local folder a payload is
written to a temporary file in ``ROOT/tmp`` and renamed into place, so a reader (or a crash) never
sees half a payload; object stores put whole objects, which gives the same guarantee.

Keys are validated as 64 lower-case hex digits before any path is built, so no key can reach outside
``ROOT`` (no ``..``, no absolute paths).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fsspec

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.store.url import graphlets_home, parse_store_url

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BlobRef:
    """Where a payload landed: its digest, its URI (what an artifact records) and its size."""

    sha256: str
    uri: str
    size: int


def default_blob_url(store_url: str | None = None) -> str:
    """``GRAPHLETS_BLOBS``, else ``blobs/`` beside a SQLite store file, else
    ``$GRAPHLETS_HOME/blobs``.

    Keeping payloads beside the SQLite file means copying that folder copies a whole store.
    """
    env = os.environ.get("GRAPHLETS_BLOBS")
    if env:
        return env
    if store_url is not None:
        parsed = parse_store_url(store_url)
        if parsed.path is not None:
            return str(parsed.path.parent / "blobs")
        if parsed.is_memory:
            return "memory://graphlets-blobs"
    return str(graphlets_home() / "blobs")


def check_digest(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lower-case hex digits; raise otherwise (no path tricks)."""
    if not isinstance(sha256, str) or not _DIGEST.match(sha256):
        raise InvalidArgumentError(
            f"blob key {str(sha256)[:80]!r} is not a sha256 hex digest: pass the 64-character "
            "lower-case digest returned by put_bytes()"
        )
    return sha256


class BlobStore:
    """Payloads by content under one fsspec root URL."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_blob_url()
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.root = self.root.rstrip("/") or "/"
        self.is_local = "file" in _protocols(self.fs)

    def __repr__(self) -> str:
        return f"BlobStore({self.url!r})"

    # paths --------------------------------------------------------------------------------
    def _path(self, sha256: str) -> str:
        d = check_digest(sha256)
        return f"{self.root}/{d[:2]}/{d}"

    def uri(self, sha256: str) -> str:
        """The URI an artifact records: a plain absolute path locally, a full URL elsewhere."""
        path = self._path(sha256)
        return path if self.is_local else str(self.fs.unstrip_protocol(path))

    def local_path(self, sha256: str) -> Path | None:
        """The payload's file on this machine, or None for non-local stores."""
        return Path(self._path(sha256)) if self.is_local else None

    # writes -------------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data`` once; returns where it is."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not self.fs.exists(path):
            if self.is_local:
                tmp = self._tmp_path()
                with open(tmp, "wb") as fh:
                    fh.write(data)
                self._publish_local(tmp, path)
            else:
                self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
                self.fs.pipe_file(path, data)
        return BlobRef(digest, self.uri(digest), len(data))

    def put_file(self, local: str | os.PathLike[str]) -> BlobRef:
        """Store a local file's bytes (streamed, never read whole into memory)."""
        digest, size = file_digest(local)
        path = self._path(digest)
        if not self.fs.exists(path):
            if self.is_local:
                tmp = self._tmp_path()
                shutil.copyfile(local, tmp)
                self._publish_local(tmp, path)
            else:
                self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
                self.fs.put_file(os.fspath(local), path)
        return BlobRef(digest, self.uri(digest), size)

    def _tmp_path(self) -> str:
        tmp_dir = Path(self.root) / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        return str(tmp_dir / f"{uuid.uuid4().hex}.part")

    def _publish_local(self, tmp: str, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)  # atomic on one filesystem; a concurrent writer wrote equal bytes

    # reads --------------------------------------------------------------------------------
    def exists(self, sha256: str) -> bool:
        """True when the payload is stored."""
        return bool(self.fs.exists(self._path(sha256)))

    def get_bytes(self, sha256: str) -> bytes:
        """The payload's bytes; NotFoundError when it is missing."""
        path = self._path(sha256)
        try:
            return bytes(self.fs.cat_file(path))
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"blob {sha256[:12]} is not in {self.url}: the payload was deleted or the "
                "artifact was written to another blob store (check --blobs)"
            ) from exc

    def open(self, sha256: str, mode: str = "rb") -> IO[Any]:
        """A read-only file object over the payload."""
        if mode not in ("rb", "r"):
            raise InvalidArgumentError(f"blobs are written once: open them with 'rb', not {mode!r}")
        return self.fs.open(self._path(sha256), mode)  # type: ignore[no-any-return]

    def digests(self) -> Iterator[str]:
        """Every stored digest (for checks and garbage collection)."""
        for path in self.fs.find(self.root):
            name = str(path).rsplit("/", 1)[-1]
            if _DIGEST.match(name):
                yield name


def file_digest(path: str | os.PathLike[str]) -> tuple[str, int]:
    """sha256 hex digest and size of a local file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)
