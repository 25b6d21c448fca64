"""The content-addressed blob store: layout, write-once, atomic publish, traversal safety."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.store.blobs import BlobStore, check_digest, default_blob_url

pytestmark = pytest.mark.unit


def test_layout_and_write_once(tmp_path: Path) -> None:
    blobs = BlobStore(str(tmp_path / "b"))
    ref = blobs.put_bytes(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    assert ref.sha256 == digest and ref.size == 5
    assert ref.uri == str(tmp_path / "b" / digest[:2] / digest)
    assert blobs.get_bytes(digest) == b"hello" and blobs.exists(digest)
    mtime = Path(ref.uri).stat().st_mtime_ns
    again = blobs.put_bytes(b"hello")
    assert again == ref and Path(ref.uri).stat().st_mtime_ns == mtime  # not rewritten
    assert list(blobs.digests()) == [digest]
    assert not list((tmp_path / "b" / "tmp").iterdir())  # no temporary file left behind


def test_put_file_streams(tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * (3 << 20))
    blobs = BlobStore(str(tmp_path / "b"))
    ref = blobs.put_file(src)
    assert ref.size == 3 << 20 and blobs.local_path(ref.sha256) == Path(ref.uri)
    with blobs.open(ref.sha256) as fh:
        assert fh.read(3) == b"xxx"


def test_memory_filesystem() -> None:
    blobs = BlobStore(f"memory://t-{uuid.uuid4().hex}")
    ref = blobs.put_bytes(b"data")
    assert ref.uri.startswith("memory://") and blobs.get_bytes(ref.sha256) == b"data"
    assert blobs.local_path(ref.sha256) is None and not blobs.is_local


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "/etc/passwd", "ab/../../x", "A" * 64, "0" * 63, "g" * 64, ""]
)
def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    blobs = BlobStore(str(tmp_path / "b"))
    with pytest.raises(InvalidArgumentError, match="not a sha256 hex digest"):
        blobs.get_bytes(key)
    with pytest.raises(InvalidArgumentError):
        check_digest(key)


def test_missing_and_read_only(tmp_path: Path) -> None:
    blobs = BlobStore(str(tmp_path / "b"))
    with pytest.raises(NotFoundError, match="is not in"):
        blobs.get_bytes("0" * 64)
    ref = blobs.put_bytes(b"x")
    with pytest.raises(InvalidArgumentError, match="written once"):
        blobs.open(ref.sha256, "wb")


def test_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHLETS_BLOBS", raising=False)
    monkeypatch.setenv("GRAPHLETS_HOME", str(tmp_path / "home"))
    assert default_blob_url(f"sqlite:///{tmp_path}/s.sqlite") == str(tmp_path / "blobs")
    assert default_blob_url("sqlite://") == "memory://graphlets-blobs"
    assert default_blob_url("postgresql://u@h/db") == str(tmp_path / "home" / "blobs")
    monkeypatch.setenv("GRAPHLETS_BLOBS", "s3://bucket/x")
    assert default_blob_url("sqlite://") == "s3://bucket/x"
