"""Does a big Distributed Map leave the engine bigger? Runs a 1,000-item Map (the peer) and then
the same Map over 10,000 items several times in one engine, printing RSS after each run and the
time per item against the peer's.

    python bench/bench_map_memory.py [--items 10000] [--runs 3]

Memory is flat when every run after the first adds ~nothing (the first one sets the allocator's
high-water mark).
"""

from __future__ import annotations

import argparse
import gc
import json
import time

import boto3
from moto import mock_aws

from mediaflow import moto_patches
from mediaflow.template import ACCOUNT_ID, REGION
from mediaflow_shared.contract.record import EXECUTION_RUNNING

DEFINITION = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.xs",
            "ItemBatcher": {"MaxItemsPerBatch": 1},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "Parameters": {"n.$": "$"}, "End": True}},
            },
            "ResultSelector": {"count.$": "States.ArrayLength($)"},
            "End": True,
        }
    },
}


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    moto_patches.apply_all(None)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(
            name="map-memory", definition=json.dumps(DEFINITION), roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/bench"
        )["stateMachineArn"]

        def run(items: int) -> tuple[float, float]:
            started = time.monotonic()
            execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"xs": list(range(items))}))
            while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == EXECUTION_RUNNING:
                time.sleep(0.1)
            gc.collect()
            return time.monotonic() - started, rss_mb()

        peer_seconds, peer_rss = run(1_000)
        peer_per_item = peer_seconds / 1_000
        print(f"peer: 1,000 items in {peer_seconds:.1f} s, RSS {peer_rss:.0f} MB")
        previous = peer_rss
        for number in range(1, args.runs + 1):
            seconds, rss = run(args.items)
            ratio = seconds / args.items / peer_per_item
            print(
                f"run {number}: {args.items:,} items in {seconds:.1f} s ({ratio:.2f}x the peer's time per item), "
                f"RSS {rss:.0f} MB ({rss - previous:+.0f} MB)"
            )
            previous = rss


if __name__ == "__main__":
    main()
