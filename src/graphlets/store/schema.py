"""MLMD schema version 10 as SQLAlchemy Core tables.

The DDL that creates a store is MLMD's own text (``ddl/*.sql``), so the file is byte-for-byte what
ml-metadata would create; these Table objects only describe it for queries. Names are lower case:
PostgreSQL folds MLMD's unquoted names to lower case, and SQLite matches names case-insensitively,
so one set of tables serves both.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 10

metadata = MetaData()

type_table = Table(
    "type",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("version", String(255)),
    Column("type_kind", SmallInteger, nullable=False),
    Column("description", Text),
    Column("input_type", Text),
    Column("output_type", Text),
    Column("external_id", String(255)),
)

type_property = Table(
    "typeproperty",
    metadata,
    Column("type_id", Integer, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("data_type", Integer),
)

parent_type = Table(
    "parenttype",
    metadata,
    Column("type_id", Integer, primary_key=True),
    Column("parent_type_id", Integer, primary_key=True),
)


def _node(name: str, *extra: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("type_id", Integer, nullable=False),
        *extra,
        Column("external_id", String(255)),
        Column("create_time_since_epoch", BigInteger, nullable=False, default=0),
        Column("last_update_time_since_epoch", BigInteger, nullable=False, default=0),
    )


artifact = _node(
    "artifact", Column("uri", Text), Column("state", Integer), Column("name", String(255))
)
execution = _node("execution", Column("last_known_state", Integer), Column("name", String(255)))
context = _node("context", Column("name", String(255), nullable=False))


def _property(name: str, owner: str) -> Table:
    return Table(
        name,
        metadata,
        Column(owner, Integer, primary_key=True),
        Column("name", String(255), primary_key=True),
        Column("is_custom_property", Boolean, primary_key=True),
        Column("int_value", BigInteger),
        Column("double_value", Float),
        Column("string_value", Text),
        Column("byte_value", LargeBinary),
        Column("proto_value", LargeBinary),
        Column("bool_value", Boolean),
    )


artifact_property = _property("artifactproperty", "artifact_id")
execution_property = _property("executionproperty", "execution_id")
context_property = _property("contextproperty", "context_id")

event = Table(
    "event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("artifact_id", Integer, nullable=False),
    Column("execution_id", Integer, nullable=False),
    Column("type", Integer, nullable=False),
    Column("milliseconds_since_epoch", BigInteger),
)

event_path = Table(
    "eventpath",
    metadata,
    Column("event_id", Integer, nullable=False),
    Column("is_index_step", Boolean, nullable=False),
    Column("step_index", Integer),
    Column("step_key", Text),
)

mlmd_env = Table("mlmdenv", metadata, Column("schema_version", Integer, primary_key=True))

parent_context = Table(
    "parentcontext",
    metadata,
    Column("context_id", Integer, primary_key=True),
    Column("parent_context_id", Integer, primary_key=True),
)

association = Table(
    "association",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("context_id", Integer, nullable=False),
    Column("execution_id", Integer, nullable=False),
)

attribution = Table(
    "attribution",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("context_id", Integer, nullable=False),
    Column("artifact_id", Integer, nullable=False),
)

NODE_TABLES = {"artifact": artifact, "execution": execution, "context": context}
PROPERTY_TABLES = {
    "artifact": (artifact_property, "artifact_id"),
    "execution": (execution_property, "execution_id"),
    "context": (context_property, "context_id"),
}
# Every MLMD table in an order that respects references (types before nodes before edges);
# copy and export walk it.
MLMD_TABLES: tuple[Table, ...] = (
    type_table,
    type_property,
    parent_type,
    artifact,
    artifact_property,
    execution,
    execution_property,
    context,
    context_property,
    event,
    event_path,
    parent_context,
    association,
    attribution,
)
