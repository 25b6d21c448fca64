"""Indexes for reverse lookups MLMD does not index, and the runner's lease table.

MLMD indexes Event by execution_id through idx_event_execution_id and by artifact through the
UNIQUE(artifact_id, execution_id, type) constraint; context membership by artifact or execution
has no index at all, which makes `get_contexts_by_artifact` a full scan at scale.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_index("idx_graphlets_attribution_artifact", "attribution", ["artifact_id"])
    op.create_index("idx_graphlets_association_execution", "association", ["execution_id"])
    op.create_index("idx_graphlets_execution_type", "execution", ["type_id", "id"])
    op.create_index("idx_graphlets_context_type", "context", ["type_id", "id"])
    op.create_table(
        "graphlets_lease",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("graphlets_lease")
    for name, table in (
        ("idx_graphlets_context_type", "context"),
        ("idx_graphlets_execution_type", "execution"),
        ("idx_graphlets_association_execution", "association"),
        ("idx_graphlets_attribution_artifact", "attribution"),
    ):
        op.drop_index(name, table_name=table)
