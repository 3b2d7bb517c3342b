"""Does ListExecutions cost the engine O(page) or O(every execution ever run)?

The AWS CLI, the bench's "still running?" poll and `mediaflow process` (each poll until its
upload's execution is found) ask ListExecutions for the newest executions. moto as shipped
sorts every execution of the state machine by start date at every call; with
`execution_index` the state machine's list keeps its start order and the page is read from the
newest down. For a state machine with N finished executions (N = 1,000 and 10,000), this prints
the CPU time per call both ways, in the same run, and their ratio: a page of 100 (the default),
and a one-item poll filtered on RUNNING (none is: the poll's answer when all is done). A third
column is the runtime's case, a state store: all but the last 200 finished executions rest in it
and the page is read from it.

    python bench/bench_execution_list.py [--executions 1000,10000] [--calls 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.responses import get_backend

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mediaflow import moto_patches  # noqa: E402
from mediaflow.moto_patches import execution_index  # noqa: E402
from mediaflow.state_store import StateStore  # noqa: E402
from mediaflow.template import ACCOUNT_ID, REGION  # noqa: E402
from mediaflow_shared.contract.record import EXECUTION_RUNNING  # noqa: E402

EXECUTING = {"stepfunctions": {"execute_state_machine": True}}
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
QUERIES = {"page of 100": {}, "RUNNING poll, 1 item": {"statusFilter": EXECUTION_RUNNING, "maxResults": 1}}


def cpu_ms_per_call(sfn: Any, arn: str, query: dict[str, Any], calls: int) -> float:
    sfn.list_executions(stateMachineArn=arn, **query)  # warm
    started = time.process_time()
    for _ in range(calls):
        sfn.list_executions(stateMachineArn=arn, **query)
    return (time.process_time() - started) / calls * 1000


def finished_executions(sfn: Any, name: str, executions: int) -> str:
    """A state machine that has run `executions` executions to the end; its ARN."""
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/bench"
    arn = sfn.create_state_machine(name=name, definition=DEFINITION, roleArn=role)["stateMachineArn"]
    backend = get_backend(ACCOUNT_ID, REGION)
    for number in range(executions):
        backend.start_execution(arn, name=f"job-{number:06d}", execution_input="{}")
    deadline = time.monotonic() + 300
    while backend.list_executions(arn, status_filter=EXECUTION_RUNNING)[0] and time.monotonic() < deadline:
        time.sleep(0.5)
    return arn


def measure(executions: int, calls: int) -> dict[str, tuple[float, float, float]]:
    """Per query: (shipped, ordered, at rest) ms of CPU per call."""
    results: dict[str, list[float]] = {label: [] for label in QUERIES}
    with mock_aws(config=EXECUTING):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = finished_executions(sfn, f"bench-{executions}", executions)
        for label, query in QUERIES.items():
            for list_executions in (execution_index.original_list_executions, execution_index._list_executions):
                sfn_models.StepFunctionBackend.list_executions = list_executions
                results[label].append(cpu_ms_per_call(sfn, arn, query, calls))
    with tempfile.TemporaryDirectory() as state_dir, mock_aws(config=EXECUTING):
        moto_patches.persist_to(StateStore(Path(state_dir)))
        try:
            sfn = boto3.client("stepfunctions", region_name=REGION)
            arn = finished_executions(sfn, f"bench-at-rest-{executions}", executions)
            for label, query in QUERIES.items():
                results[label].append(cpu_ms_per_call(sfn, arn, query, calls))
        finally:
            moto_patches.persist_to(None)
    return {label: (shipped, ordered, at_rest) for label, (shipped, ordered, at_rest) in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", default="1000,10000")
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    moto_patches.apply_all(None)
    for executions in (int(n) for n in args.executions.split(",")):
        for label, (shipped, ordered, at_rest) in measure(executions, args.calls).items():
            print(
                f"{executions:>6} executions, {label:<21}: CPU per ListExecutions call "
                f"{shipped:6.2f} ms shipped, {ordered:6.2f} ms ordered ({ordered / shipped:.2f}x), "
                f"{at_rest:6.2f} ms at rest in a store ({at_rest / shipped:.2f}x)"
            )


if __name__ == "__main__":
    main()
