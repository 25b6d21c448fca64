"""The one exception tree of graphlets.

Every expected failure raises a subclass of :class:`GraphletsError`, whose message is one line
that names the thing, the problem and the fix. The CLI prints that line and exits 1; anything else
is a bug and keeps its traceback.

::

    GraphletsError
    ├── StoreError
    │   ├── StoreNotFoundError        no store at the URL (run `graphlets store init`)
    │   ├── NotAStoreError            the file is not SQLite / not an MLMD store
    │   ├── SchemaVersionError        another MLMD schema version, or graphlets migrations pending
    │   ├── StoreConnectionError      the server cannot be reached
    │   ├── StoreReadOnlyError        the file or its folder is not writable
    │   ├── StoreBusyError            another process held a lock past the busy timeout
    │   └── ConcurrencyError          a write kept failing under contention
    ├── NotFoundError                 an id, type or name that does not exist
    ├── AlreadyExistsError            a duplicate name, or an incompatible type redefinition
    ├── ConflictError                 a write's precondition no longer holds (another writer won)
    ├── InvalidArgumentError          bad values passed to the API
    │   ├── FilterQueryError          a filter_query outside the supported subset
    │   ├── WouldOverwriteError       data we did not write would be deleted (pass --force)
    │   └── IdError                   a CLI/web id that is not `kind:number`
    ├── TypeMismatchError             a property value whose type disagrees with the type schema
    └── ExecutorError                 an executor cannot start (e.g. a Dask scheduler unreachable)
"""

from __future__ import annotations


class GraphletsError(Exception):
    """Root of every expected graphlets failure; ``str(err)`` is the one-line headline.

    Line breaks inside the message (a file name or filter the user typed may hold one) are
    shown escaped, so the headline stays one line wherever it is printed.
    """

    def __str__(self) -> str:
        return super().__str__().replace("\r", "\\r").replace("\n", "\\n")


class StoreError(GraphletsError):
    """The store cannot be opened or used as asked."""


class StoreNotFoundError(StoreError):
    """No store exists at the URL; reading never creates one."""


class NotAStoreError(StoreError):
    """The target exists but is not an MLMD store (not SQLite, or no MLMD tables)."""


class SchemaVersionError(StoreError):
    """The store's MLMD schema version (or graphlets' migration level) is not the one we speak."""


class StoreConnectionError(StoreError):
    """The database server could not be reached."""


class StoreReadOnlyError(StoreError):
    """The store's file (or the folder SQLite writes its -wal/-shm files into) is read-only."""


class StoreBusyError(StoreError):
    """Another process held the store locked longer than the busy timeout."""


class ConcurrencyError(StoreError):
    """A write kept losing to other writers after all retries."""


class NotFoundError(GraphletsError):
    """An id, type or name that is not in the store."""


class AlreadyExistsError(GraphletsError):
    """A unique name is taken, or a type redefinition is incompatible."""


class ConflictError(GraphletsError):
    """A write asked for a state that another writer changed first (e.g. a rollback away from a
    version that is no longer in production); nothing was written."""


class InvalidArgumentError(GraphletsError):
    """Arguments that can never succeed, whatever the store holds."""


class FilterQueryError(InvalidArgumentError):
    """A ``ListOptions.filter_query`` outside the documented subset of MLMD's syntax."""


class WouldOverwriteError(InvalidArgumentError):
    """A command would delete or replace files or tables it did not create itself."""


class IdError(InvalidArgumentError):
    """A typed id (``artifact:12``) that does not parse."""


class TypeMismatchError(GraphletsError):
    """A property value whose Python type disagrees with the declared property type."""


class ExecutorError(GraphletsError):
    """An executor cannot start, e.g. its Dask scheduler does not answer."""
