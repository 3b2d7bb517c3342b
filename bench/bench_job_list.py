"""Does the status page's job list cost the engine O(page) or O(every job ever run)?

The page asks for the newest 20 jobs every 3 s (a Query on the jobs table's ByStartedAt index,
newest first, Limit 20), then pages on. moto as shipped answers by sorting every item of the
table; with `items_at_rest` the page is read from the index's order (the awake items' sort keys
in memory, the resting ones' expression index over the state store's rows) and moto gets the
page only. For a table of N job records (N = 1,000 and 10,000), this prints the CPU time per
page query both ways, in the same run, and their ratio, and the memory each table holds per
item (tracemalloc).

    python bench/bench_job_list.py [--jobs 1000,10000] [--queries 30]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.dynamodb.models import table as table_models

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mediaflow import moto_patches  # noqa: E402
from mediaflow.deploy import create_table_request  # noqa: E402
from mediaflow.moto_patches import items_at_rest, model_tracking  # noqa: E402
from mediaflow.state_store import StateStore  # noqa: E402
from mediaflow.template import bind_template  # noqa: E402
from mediaflow_shared.contract.record import JobStatus  # noqa: E402
from mediaflow_shared.contract.settings import Settings  # noqa: E402

REGION = "us-east-1"
UPLOADS, OUTPUTS = Settings().upload_prefix, Settings().output_prefix
SHIPPED = {
    "__init__": items_at_rest.original_table_init,
    "query": items_at_rest.original_query,
    "all_items": items_at_rest.original_all_items,
    "__len__": items_at_rest.original_len,
}
AT_REST = {
    "__init__": items_at_rest._table_init,
    "query": items_at_rest._query,
    "all_items": items_at_rest._all_items,
    "__len__": items_at_rest._len,
}


def job_record(number: int) -> dict[str, Any]:
    """About the size and shape of a finished image job's record."""
    return {
        "jobId": {"S": f"{number:08d}-6f1c2f0e-8d4b-4a59-9f77-2a1d7b2c9e11"},
        "recordType": {"S": "job"},
        "startedAt": {"S": f"2026-12-02T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:{number % 60:02d}.000Z"},
        "status": {"S": JobStatus.SUCCEEDED.value},
        "kind": {"S": "image"},
        "source": {"M": {"bucket": {"S": "mediaflow-media"}, "key": {"S": f"{UPLOADS}photo-{number}.jpg"}}},
        "executionArn": {"S": f"arn:aws:states:us-east-1:123456789012:execution:mediaflow:{number:08d}"},
        "outputs": {"L": [{"S": f"{OUTPUTS}{number}/w{width}.webp"} for width in (320, 640, 1280)]},
        "labels": {"L": [{"S": "person"}, {"S": "cat"}]},
        "finishedAt": {"S": "2026-12-02T00:00:01.000Z"},
        "costUsd": {"N": "0.0000123"},
    }


def create_jobs_table(dynamodb: Any, name: str) -> None:
    """MediaFlow's jobs table as template.yaml defines it (its ByStartedAt index included)."""
    (jobs,) = bind_template(REPO / "template.yaml").resources_of_type("AWS::DynamoDB::Table")
    dynamodb.create_table(**create_table_request(jobs, name))


def measure(dynamodb: Any, name: str, jobs: int, queries: int) -> tuple[float, float]:
    """(ms of CPU per page query, bytes held per item)."""
    create_jobs_table(dynamodb, name)
    gc.collect()
    tracemalloc.start()
    for number in range(jobs):
        dynamodb.put_item(TableName=name, Item=job_record(number))
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] / jobs
    tracemalloc.stop()
    page = {
        "TableName": name,
        "IndexName": "ByStartedAt",
        "KeyConditionExpression": "recordType = :job",
        "ExpressionAttributeValues": {":job": {"S": "job"}},
        "ScanIndexForward": False,
        "Limit": 20,
    }
    first = dynamodb.query(**page)
    assert len(first["Items"]) == 20 and "LastEvaluatedKey" in first
    started = time.process_time()
    for _ in range(queries):
        dynamodb.query(**page)
    return (time.process_time() - started) / queries * 1000, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1000,10000")
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    table_class = table_models.Table
    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        model_tracking.apply()  # as in the engine: moto's model lists hold their instances weakly
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        store = StateStore(Path(tmp))
        try:
            for jobs in (int(n) for n in args.jobs.split(",")):
                results = {}
                for label, methods in (("moto as shipped", SHIPPED), ("items at rest", AT_REST)):
                    for name, method in methods.items():
                        setattr(table_class, name, method)
                    moto_patches.persist_to(store if methods is AT_REST else None)
                    results[label] = measure(dynamodb, f"jobs-{jobs}-{len(results)}", jobs, args.queries)
                shipped, rested = results["moto as shipped"], results["items at rest"]
                print(f"{jobs:>6} job records:")
                for label, (ms, held) in results.items():
                    print(
                        f"  {label:16s} {ms:8.2f} ms of CPU per page of the job list, {held:6.0f} bytes held per item"
                    )
                cpu, memory = rested[0] / shipped[0], rested[1] / shipped[1]
                print(f"  at rest / as shipped: {cpu:.3f}x the CPU, {memory:.2f}x the memory")
        finally:
            moto_patches.persist_to(None)
            store.close()


if __name__ == "__main__":
    main()
