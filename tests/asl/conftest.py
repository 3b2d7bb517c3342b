"""One emulated AWS (moto with every mediaflow patch) for the whole ASL suite, at 1/100 time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mediaflow import moto_patches
from mediaflow.moto_patches import clock
from mediaflow.template import REGION


@pytest.fixture(scope="module")
def sfn() -> Iterator[Any]:
    previous_sink = moto_patches.apply_all(None)
    previous_scale = clock.time_scale()
    clock.set_time_scale(0.01)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name=REGION)
    clock.set_time_scale(previous_scale)
    moto_patches.deliver_email_to(previous_sink)
