"""The official openlineage-python client posting to graphlets' Marquez-compatible receiver."""

from __future__ import annotations

import uuid

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset, sql_job
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

from graphlets.model import ArtifactState, ExecutionState
from graphlets.store import MetadataStore
from tests.interop.conftest import TOKEN, Receiver

pytestmark = pytest.mark.unit


def client(url: str, key: str | None = TOKEN, gzip: bool = False) -> OpenLineageClient:
    auth = ApiKeyTokenProvider({"apiKey": key}) if key else None
    config = HttpConfig(
        url=url,
        retry={"total": 0},
        compression=HttpCompression.GZIP if gzip else None,
        **({"auth": auth} if auth else {}),
    )
    return OpenLineageClient(transport=HttpTransport(config))


def run_event(state: RunState, run_id: str, time: str) -> RunEvent:
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="INT")]
    )
    return RunEvent(
        eventType=state,
        eventTime=time,
        run=Run(runId=run_id),
        job=Job(
            namespace="spark",
            name="daily_agg",
            facets={"sql": sql_job.SQLJobFacet(query="INSERT INTO agg SELECT * FROM raw")},
        ),
        inputs=[InputDataset(namespace="s3://lake", name="raw/events")],
        outputs=[OutputDataset(namespace="s3://lake", name="agg/daily", facets={"schema": schema})],
        producer="https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/spark",
    )


@pytest.mark.parametrize("gzip", [False, True])
def test_the_official_client_posts_a_run_we_store(receiver: Receiver, gzip: bool) -> None:
    c = client(receiver.url, gzip=gzip)
    run_id = str(uuid.uuid4())
    c.emit(run_event(RunState.START, run_id, "2026-04-01T08:00:00Z"))
    c.emit(run_event(RunState.COMPLETE, run_id, "2026-04-01T08:10:00Z"))
    with MetadataStore(receiver.store_url) as st:
        ex = st.get_execution_by_type_and_name("spark/daily_agg", run_id)
        assert ex is not None and ex.last_known_state == ExecutionState.COMPLETE
        assert ex.custom_properties["openlineage.job.sql"]["query"].startswith("INSERT")
        arts = st.get_artifacts_by_uri("s3://lake/agg/daily")
        assert [a.state for a in arts] == [ArtifactState.LIVE]
        schema = arts[0].custom_properties["openlineage.dataset.schema"]
        assert schema["fields"][0]["name"] == "id"
        assert [a.state for a in st.get_artifacts_by_uri("s3://lake/raw/events")] == [
            ArtifactState.REFERENCE
        ]


@pytest.mark.parametrize(("key", "status"), [(None, 401), ("wrong", 403)])
def test_the_client_without_the_right_key_is_refused(
    receiver: Receiver, key: str | None, status: int
) -> None:
    c = client(receiver.url, key=key)
    with pytest.raises(requests.HTTPError) as err:
        c.emit(run_event(RunState.COMPLETE, str(uuid.uuid4()), "2026-04-01T08:10:00Z"))
    assert err.value.response.status_code == status
    with MetadataStore(receiver.store_url) as st:
        assert st.count("execution") == 0


def test_a_malformed_post_is_a_4xx_with_a_message(receiver: Receiver) -> None:
    r = requests.post(
        f"{receiver.url}/api/v1/lineage",
        json={"eventTime": "now", "run": {"runId": "x"}, "job": {"namespace": "a", "name": "b"}},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert r.status_code == 422
    assert "not a valid OpenLineage run event" in r.json()["detail"]


def test_received_jobs_show_up_in_the_pipeline_pages(receiver: Receiver) -> None:
    c = client(receiver.url)
    for _ in range(2):
        run_id = str(uuid.uuid4())
        c.emit(run_event(RunState.START, run_id, "2026-04-01T08:00:00Z"))
        c.emit(run_event(RunState.COMPLETE, run_id, "2026-04-01T08:10:00Z"))
    overview = requests.get(f"{receiver.url}/api/pipelines", timeout=10).json()
    [pipe] = overview["pipelines"]
    assert (pipe["name"], pipe["runs"], pipe["executions"]) == ("spark/daily_agg", 2, 2)
    page = requests.get(f"{receiver.url}{pipe['url']}", timeout=10)
    assert page.status_code == 200 and "spark/daily_agg" in page.text
    runs = requests.get(f"{receiver.url}/api{pipe['url']}", timeout=10).json()["runs"]
    assert [r["end_ms"] - r["start_ms"] for r in runs] == [600_000, 600_000]
