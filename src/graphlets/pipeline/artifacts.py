"""Artifact types and the handles components read and write through.

An artifact class names an MLMD artifact type (TFX's names and declared properties, so stores stay
readable by TFX tools). A component declares ``examples: Input[Examples]`` (one artifact),
``examples: Inputs[Examples]`` (a list, e.g. a rolling window of spans) or ``model: Output[Model]``;
at run time it receives a handle. Output handles write one payload into the content-addressed blob
store; the payload's sha256 is the artifact's content hash, which feeds downstream cache keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Generic, TypeVar, overload

import fsspec

from graphlets.errors import InvalidArgumentError
from graphlets.model import ArtifactBaseType, ArtifactType, PropertyType, PropertyValue
from graphlets.store.blobs import BlobRef, BlobStore

INT, STRING = PropertyType.INT, PropertyType.STRING


class ArtifactClass:
    """Base of artifact classes: subclass it to define your own MLMD artifact type."""

    TYPE_NAME: ClassVar[str] = ""
    PROPERTIES: ClassVar[Mapping[str, PropertyType]] = {}
    BASE_TYPE: ClassVar[ArtifactBaseType] = ArtifactBaseType.UNSET

    @classmethod
    def type_name(cls) -> str:
        """The MLMD type name (``TYPE_NAME``, or the class name)."""
        return cls.TYPE_NAME or cls.__name__

    @classmethod
    def artifact_type(cls) -> ArtifactType:
        """The MLMD ``ArtifactType`` this class registers."""
        return ArtifactType(cls.type_name(), dict(cls.PROPERTIES), base_type=cls.BASE_TYPE)


class Examples(ArtifactClass):
    """Rows of one span of data."""

    PROPERTIES: ClassVar[Mapping[str, PropertyType]] = {
        "span": INT,
        "version": INT,
        "split_names": STRING,
    }
    BASE_TYPE = ArtifactBaseType.DATASET


class ExampleStatistics(ArtifactClass):
    """Statistics of one span."""

    PROPERTIES: ClassVar[Mapping[str, PropertyType]] = {"span": INT, "split_names": STRING}
    BASE_TYPE = ArtifactBaseType.STATISTICS


class ExampleAnomalies(ArtifactClass):
    """Anomalies found validating one span against a schema."""

    PROPERTIES: ClassVar[Mapping[str, PropertyType]] = {"span": INT, "split_names": STRING}


class Schema(ArtifactClass):
    """A data schema."""


class TransformGraph(ArtifactClass):
    """A fitted feature transform."""


class Model(ArtifactClass):
    """A trained model."""

    BASE_TYPE = ArtifactBaseType.MODEL


class ModelRun(ArtifactClass):
    """Training logs."""


class ModelEvaluation(ArtifactClass):
    """Evaluation metrics of a model."""

    BASE_TYPE = ArtifactBaseType.METRICS


class ModelBlessing(ArtifactClass):
    """The evaluator's verdict; custom property ``blessed`` = 1 or 0, as TFX writes it."""


class InfraBlessing(ArtifactClass):
    """The infra validator's verdict."""


class PushedModel(ArtifactClass):
    """A model pushed to serving; custom property ``pushed`` = 1 or 0, as TFX writes it."""


class HyperParameters(ArtifactClass):
    """Tuned hyper-parameters."""


STANDARD_ARTIFACTS: tuple[type[ArtifactClass], ...] = (
    Examples,
    ExampleStatistics,
    ExampleAnomalies,
    Schema,
    TransformGraph,
    Model,
    ModelRun,
    ModelEvaluation,
    ModelBlessing,
    InfraBlessing,
    PushedModel,
    HyperParameters,
)

A = TypeVar("A", bound=ArtifactClass)


@dataclass(frozen=True)
class ArtifactRef:
    """What a worker needs to read an artifact: plain, picklable values (no store records)."""

    id: int
    type_name: str
    uri: str | None
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)

    @property
    def sha256(self) -> str | None:
        """The payload digest, when graphlets wrote the payload."""
        value = self.properties.get("content_sha256")
        return value if isinstance(value, str) else None


class Input(Generic[A]):
    """A resolved input artifact, read only."""

    def __init__(self, ref: ArtifactRef, blobs: BlobStore | None = None) -> None:
        self.ref = ref
        self._blobs = blobs

    def __repr__(self) -> str:
        return f"Input({self.ref.type_name} artifact:{self.ref.id}, span={self.span})"

    @property
    def id(self) -> int:
        """The MLMD artifact id."""
        return self.ref.id

    @property
    def uri(self) -> str | None:
        """Where the payload lives."""
        return self.ref.uri

    @property
    def properties(self) -> Mapping[str, PropertyValue]:
        """Properties and custom properties, merged."""
        return self.ref.properties

    @property
    def span(self) -> int | None:
        """The span this artifact belongs to (an int; dates are ``YYYYMMDD``)."""
        value = self.ref.properties.get("span")
        return int(value) if isinstance(value, int | float) else None

    def open(self) -> IO[bytes]:
        """A binary file object over the payload."""
        digest = self.ref.sha256
        if self._blobs is not None and digest is not None and self._blobs.exists(digest):
            return self._blobs.open(digest)
        if not self.ref.uri:
            raise InvalidArgumentError(
                f"artifact:{self.ref.id} ({self.ref.type_name}) has no payload: its producer "
                "wrote only properties; read .properties instead"
            )
        return fsspec.open(self.ref.uri, "rb").open()  # type: ignore[no-any-return]

    def read_bytes(self) -> bytes:
        """The payload."""
        with self.open() as fh:
            return fh.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        """The payload as text."""
        return self.read_bytes().decode(encoding)

    def read_json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.read_bytes())

    def load_pickle(self) -> Any:
        """The payload unpickled (only for payloads your own pipeline wrote)."""
        return pickle.loads(self.read_bytes())

    def local_path(self) -> Path:
        """A local file with the payload (the blob itself when local, else a temporary copy)."""
        digest = self.ref.sha256
        if self._blobs is not None and digest is not None:
            local = self._blobs.local_path(digest)
            if local is not None and local.exists():
                return local
        fd, name = tempfile.mkstemp(prefix=f"graphlets-{self.ref.id}-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.read_bytes())
        return Path(name)


class Inputs(Generic[A]):
    """Several resolved artifacts of one type (a rolling window), newest span first."""

    def __init__(self, items: Sequence[Input[A]]) -> None:
        self._items = list(items)

    def __repr__(self) -> str:
        return f"Inputs({self._items!r})"

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Input[A]]:
        return iter(self._items)

    @overload
    def __getitem__(self, i: int) -> Input[A]: ...
    @overload
    def __getitem__(self, i: slice) -> list[Input[A]]: ...
    def __getitem__(self, i: int | slice) -> Input[A] | list[Input[A]]:
        return self._items[i]

    @property
    def spans(self) -> list[int | None]:
        """The spans, in order."""
        return [x.span for x in self._items]


class Output(Generic[A]):
    """An artifact a component writes: one payload plus properties."""

    def __init__(self, artifact_class: type[ArtifactClass], blobs: BlobStore) -> None:
        self.artifact_class = artifact_class
        self.properties: dict[str, PropertyValue] = {}
        self._blobs = blobs
        self._blob: BlobRef | None = None

    def __repr__(self) -> str:
        return f"Output({self.artifact_class.type_name()}, written={self._blob is not None})"

    def set(self, name: str, value: PropertyValue) -> None:
        """Set a property (declared by the type, else custom)."""
        self.properties[name] = value

    def write_bytes(self, data: bytes) -> None:
        """Write the payload (once per execution; a second write replaces the first)."""
        self._blob = self._blobs.put_bytes(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> None:
        """Write text."""
        self.write_bytes(text.encode(encoding))

    def write_json(self, obj: Any) -> None:
        """Write canonical JSON (sorted keys), so equal objects have equal content hashes."""
        self.write_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())

    def write_pickle(self, obj: Any) -> None:
        """Write a pickle."""
        self.write_bytes(pickle.dumps(obj, protocol=4))

    def write_file(self, path: str | os.PathLike[str]) -> None:
        """Write a local file's bytes (streamed)."""
        self._blob = self._blobs.put_file(path)

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """A binary file to write the payload into; stored when the block exits."""
        fd, name = tempfile.mkstemp(prefix="graphlets-out-")
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            self.write_file(name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)

    @property
    def blob(self) -> BlobRef | None:
        """Where the payload landed, once written."""
        return self._blob
