"""Map states, inline and distributed (AWS: "Map state", "Using Map state in Distributed mode",
"ItemReader", "ItemBatcher", "ResultWriter", "Setting failure thresholds")."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from mediaflow.template import REGION
from tests.asl.harness import ANY, Case, Refused, check, check_refused, distributed, jsonata, machine, pass_state, run

BUCKET = "asl-map-items"
ETE = "States.ExceedToleratedFailureThreshold"


def fails_above(limit: int) -> dict[str, Any]:
    """A child that fails for items above `limit` and passes the others on."""
    return {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericGreaterThan": limit, "Next": "F"}],
            "Default": "P",
        },
        "P": pass_state(),
        "F": {"Type": "Fail", "Error": "TooBig", "Cause": "over the limit"},
    }


TEN = {"xs": list(range(1, 11))}

CASES = [
    Case(
        "inline-items-path-item-selector",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "k.$": "$.k"},
                    "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                    "End": True,
                }
            }
        ),
        {"xs": ["a", "b"], "k": 1},
        [{"v": "a", "i": 0, "k": 1}, {"v": "b", "i": 1, "k": 1}],
    ),
    Case(
        "legacy-iterator-and-parameters",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "Parameters": {"v.$": "$$.Map.Item.Value"},
                    "Iterator": {"StartAt": "P", "States": {"P": pass_state()}},
                    "MaxConcurrency": 1,
                    "End": True,
                }
            }
        ),
        {"xs": [1, 2]},
        [{"v": 1}, {"v": 2}],
    ),
    Case(
        "inline-empty",
        machine({"M": {"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}}, "End": True}}),
        [],
        [],
    ),
    Case(
        "inline-failure-fails-the-map",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "ItemProcessor": {"StartAt": "C", "States": fails_above(5)},
                    "End": True,
                }
            }
        ),
        TEN,
        error="TooBig",
    ),
    Case(
        "distributed-all-succeed",
        machine({"M": distributed({"P": pass_state()}, ItemsPath="$.xs")}),
        {"xs": [1, 2, 3]},
        [1, 2, 3],
    ),
    Case(
        "distributed-a-failure-fails-by-default",
        machine({"M": distributed(fails_above(9), ItemsPath="$.xs")}),
        TEN,
        error=ETE,
        events=(
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunFailed",
            "MapStateFailed",
            "ExecutionFailed",
        ),
    ),
    Case(
        "distributed-count-tolerated",
        machine({"M": distributed(fails_above(8), ItemsPath="$.xs", ToleratedFailureCount=2)}),
        TEN,
        ANY,
    ),
    Case(
        "distributed-count-exceeded",
        machine({"M": distributed(fails_above(7), ItemsPath="$.xs", ToleratedFailureCount=2)}),
        TEN,
        error=ETE,
    ),
    Case(
        "distributed-integer-percentage-tolerated",
        machine({"M": distributed(fails_above(8), ItemsPath="$.xs", ToleratedFailurePercentage=20)}),
        TEN,
        ANY,
    ),
    Case(
        "distributed-percentage-exceeded",
        machine({"M": distributed(fails_above(5), ItemsPath="$.xs", ToleratedFailurePercentage=20)}),
        TEN,
        error=ETE,
    ),
    Case(
        "distributed-failure-caught-like-mediaflow",
        machine(
            {
                "M": {
                    **distributed(fails_above(9), ItemsPath="$.xs"),
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Discard"}],
                },
                "Discard": pass_state(OutputPath="$.error"),
            }
        ),
        TEN,
        {"Error": ETE, "Cause": "The specified tolerated failure threshold was exceeded"},
    ),
    Case(
        "item-batcher-max-items-and-batch-input",
        machine(
            {
                "M": distributed(
                    {"P": pass_state()},
                    ItemsPath="$.xs",
                    ItemBatcher={"MaxItemsPerBatch": 4, "BatchInput": {"job.$": "$.job", "fixed": 1}},
                )
            }
        ),
        {"xs": list(range(10)), "job": "j1"},
        [
            {"BatchInput": {"job": "j1", "fixed": 1}, "Items": [0, 1, 2, 3]},
            {"BatchInput": {"job": "j1", "fixed": 1}, "Items": [4, 5, 6, 7]},
            {"BatchInput": {"job": "j1", "fixed": 1}, "Items": [8, 9]},
        ],
    ),
    Case(
        "item-batcher-max-bytes",
        machine(
            {
                "M": distributed(
                    {"P": pass_state(OutputPath="$.Items")}, ItemsPath="$.xs", ItemBatcher={"MaxInputBytesPerBatch": 40}
                )
            }
        ),
        {"xs": ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"]},
        [["aaaaaaaaaa", "bbbbbbbbbb"], ["cccccccccc", "dddddddddd"]],
    ),
    Case(
        "jsonata-distributed-map",
        jsonata(
            {"M": distributed({"P": pass_state(Output="{% $states.input * 2 %}")}, Items="{% $states.input.xs %}")}
        ),
        {"xs": [1, 2]},
        [2, 4],
    ),
]

REFUSED = [
    Refused(
        "item-batcher-inline",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemBatcher": {"MaxItemsPerBatch": 2},
                    "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                    "End": True,
                }
            }
        ),
        "ItemBatcher in an INLINE Map",
    ),
    Refused(
        "percentage-over-100",
        machine({"M": distributed({"P": pass_state()}, ToleratedFailurePercentage=101)}),
        "ToleratedFailurePercentage",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_map(sfn: Any, case: Case) -> None:
    check(sfn, case)


@pytest.mark.parametrize("case", REFUSED, ids=str)
def test_map_refused(sfn: Any, case: Refused) -> None:
    check_refused(sfn, case)


@pytest.fixture(scope="module")
def s3(sfn: Any) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": index} for index in range(5)]))
    client.put_object(Bucket=BUCKET, Key="items.csv", Body='n,name\n1,a\n2,"b, with comma"\n')
    for index in range(3):
        client.put_object(Bucket=BUCKET, Key=f"listed/o{index}.txt", Body=b"x" * index)
    return client


def _reader(resource: str, parameters: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    reader: dict[str, Any] = {"Resource": resource, "Parameters": parameters}
    if config:
        reader["ReaderConfig"] = config
    return reader


def test_item_reader_json(sfn: Any, s3: Any) -> None:
    reader = _reader("arn:aws:states:::s3:getObject", {"Bucket": BUCKET, "Key": "items.json"}, {"InputType": "JSON"})
    check(
        sfn,
        Case(
            "reader-json",
            machine({"M": distributed({"P": pass_state()}, ItemReader=reader)}),
            {},
            [{"n": i} for i in range(5)],
        ),
    )


def test_item_reader_json_max_items(sfn: Any, s3: Any) -> None:
    reader = _reader(
        "arn:aws:states:::s3:getObject", {"Bucket": BUCKET, "Key": "items.json"}, {"InputType": "JSON", "MaxItems": 2}
    )
    check(
        sfn,
        Case(
            "reader-max-items",
            machine({"M": distributed({"P": pass_state()}, ItemReader=reader)}),
            {},
            [{"n": 0}, {"n": 1}],
        ),
    )


def test_item_reader_csv_with_header_row(sfn: Any, s3: Any) -> None:
    reader = _reader(
        "arn:aws:states:::s3:getObject",
        {"Bucket": BUCKET, "Key": "items.csv"},
        {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
    )
    check(
        sfn,
        Case(
            "reader-csv",
            machine({"M": distributed({"P": pass_state()}, ItemReader=reader)}),
            {},
            [{"n": "1", "name": "a"}, {"n": "2", "name": "b, with comma"}],
        ),
    )


def test_item_reader_s3_listing_has_aws_shape(sfn: Any, s3: Any) -> None:
    reader = _reader("arn:aws:states:::s3:listObjectsV2", {"Bucket": BUCKET, "Prefix": "listed/"})
    outcome = check(
        sfn, Case("reader-listing", machine({"M": distributed({"P": pass_state()}, ItemReader=reader)}), {}, ANY)
    )
    assert [item["Key"] for item in outcome.output] == ["listed/o0.txt", "listed/o1.txt", "listed/o2.txt"]
    assert [item["Size"] for item in outcome.output] == [0, 1, 2]
    assert set(outcome.output[0]) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert isinstance(outcome.output[0]["LastModified"], int)


def test_item_reader_empty_listing(sfn: Any, s3: Any) -> None:
    reader = _reader("arn:aws:states:::s3:listObjectsV2", {"Bucket": BUCKET, "Prefix": "nothing-here/"})
    check(
        sfn, Case("reader-empty-listing", machine({"M": distributed({"P": pass_state()}, ItemReader=reader)}), {}, [])
    )


def test_result_writer_writes_aws_result_files_and_manifest(sfn: Any, s3: Any) -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": BUCKET, "Prefix": "results"}}
    definition = machine(
        {"M": distributed(fails_above(8), ItemsPath="$.xs", ToleratedFailureCount=5, ResultWriter=writer)}
    )
    outcome = check(sfn, Case("result-writer", definition, TEN, ANY))
    details = outcome.output["ResultWriterDetails"]
    assert outcome.output["MapRunArn"].split(":")[-1] in details["Key"]
    assert (
        details["Bucket"] == BUCKET
        and details["Key"].startswith("results/")
        and details["Key"].endswith("/manifest.json")
    )
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=details["Key"])["Body"].read())
    assert manifest["DestinationBucket"] == BUCKET and manifest["MapRunArn"] == outcome.output["MapRunArn"]
    assert manifest["ResultFiles"]["PENDING"] == []
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    (failed,) = manifest["ResultFiles"]["FAILED"]
    succeeded_body = s3.get_object(Bucket=BUCKET, Key=succeeded["Key"])["Body"].read()
    assert succeeded["Size"] == len(succeeded_body) and succeeded["Key"].endswith("/SUCCEEDED_0.json")
    records = json.loads(succeeded_body)
    assert [json.loads(record["Output"]) for record in records] == list(range(1, 9))
    assert {record["Status"] for record in records} == {"SUCCEEDED"}
    failures = json.loads(s3.get_object(Bucket=BUCKET, Key=failed["Key"])["Body"].read())
    assert [(json.loads(record["Input"]), record["Error"], record["Cause"]) for record in failures] == [
        (9, "TooBig", "over the limit"),
        (10, "TooBig", "over the limit"),
    ]


def test_a_distributed_map_of_10000_items_completes(sfn: Any) -> None:
    definition = machine(
        {
            "M": distributed(
                {"P": pass_state(Parameters={"n.$": "$"})},
                ItemsPath="$.xs",
                ItemBatcher={"MaxItemsPerBatch": 1},
                ResultSelector={"count.$": "States.ArrayLength($)"},
            )
        }
    )
    outcome = run(sfn, definition, {"xs": list(range(10_000))}, timeout=300)
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.output == {"count": 10_000}
    assert len(outcome.events) < 20


def test_one_worker_runs_1000_items_without_recursing(sfn: Any) -> None:
    """moto's worker called itself per item: MaxConcurrency 1 over 1,000 items hit the recursion limit."""
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.xs",
                "MaxConcurrency": 1,
                "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                "End": True,
            }
        }
    )
    outcome = run(sfn, definition, {"xs": list(range(1_000))}, timeout=300)
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.output == list(range(1_000))


def test_an_inline_map_over_the_history_limit_fails_as_on_aws(sfn: Any) -> None:
    """10,000 inline iterations write ~40,000 events; AWS stops an execution at 25,000."""
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.xs",
                "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                "End": True,
            }
        }
    )
    outcome = run(sfn, definition, {"xs": list(range(7_000))}, timeout=300)
    assert outcome.status == "FAILED", outcome.status
    assert outcome.error == "States.Runtime"
    assert "25000" in outcome.cause or "25,000" in outcome.cause
    assert len(outcome.events) <= 25_000


MAP_EDGE_CASES = [
    Case(
        "jsonata-items-literal-and-item-selector-literals",
        jsonata(
            {
                "M": {
                    "Type": "Map",
                    "Items": [1, "{% $states.input.two %}", 3],
                    "ItemSelector": {"fixed": "x", "v": "{% $states.context.Map.Item.Value %}"},
                    "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                    "End": True,
                }
            }
        ),
        {"two": 2},
        [{"fixed": "x", "v": 1}, {"fixed": "x", "v": 2}, {"fixed": "x", "v": 3}],
    ),
    Case(
        "max-concurrency-path",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "MaxConcurrencyPath": "$.limit",
                    "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                    "End": True,
                }
            }
        ),
        {"xs": [1, 2, 3], "limit": 1},
        [1, 2, 3],
    ),
    Case(
        "map-result-selector-and-result-path",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "ItemProcessor": {"StartAt": "P", "States": {"P": pass_state()}},
                    "ResultSelector": {"n.$": "States.ArrayLength($)"},
                    "ResultPath": "$.count",
                    "End": True,
                }
            }
        ),
        {"xs": [1, 2, 3]},
        {"xs": [1, 2, 3], "count": {"n": 3}},
    ),
]


@pytest.mark.parametrize("case", MAP_EDGE_CASES, ids=str)
def test_map_edge_cases(sfn: Any, case: Case) -> None:
    check(sfn, case)
