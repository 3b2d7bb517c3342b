"""Every status API route, through the local server's API Gateway v2 adapter into the real handler."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from mediaflow.stack import LocalStack
from tests.integration.jobs import emails_about, run_upload

pytestmark = pytest.mark.integration


def _post(api: str, path: str, body: Any) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{api}{path}", data=data, headers={"content-type": "application/json"}, timeout=30)


def test_health(api: str) -> None:
    response = requests.get(f"{api}/health", timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_presigned_post_uploads_and_starts_a_job(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    response = _post(api, "/uploads", {"filename": "holiday photo é.jpg", "contentType": "image/jpeg"})
    assert response.status_code == 200
    target = response.json()
    assert target["key"].startswith("uploads/") and target["key"].endswith("/holiday photo é.jpg")
    policy = json.loads(base64.b64decode(target["fields"]["policy"]))
    assert ["content-length-range", 1, target["maxBytes"]] in policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]

    files = {"file": ("photo.jpg", samples["coffee.jpg"].read_bytes(), "image/jpeg")}
    uploaded = requests.post(target["url"], data=target["fields"], files=files, timeout=30)
    assert uploaded.status_code in (200, 201, 204)
    execution = stack.wait_for_execution(target["key"], timeout=60)
    assert execution["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contentType": "image/jpeg"}, "filename"),
        ({"filename": "../", "contentType": "image/jpeg"}, "filename"),
        ({"filename": "notes.txt", "contentType": "text/plain"}, "contentType"),
        ([1, 2], "JSON object"),
        (b"{not json", "not valid JSON"),
        ({"filename": ["a"], "contentType": "image/jpeg"}, "filename"),
        ({"filename": "a.jpg", "contentType": "image/jpeg\r\nX-Evil: 1"}, "contentType"),
        ({"filename": "a.jpg", "contentType": 7}, "contentType"),
        (b"[" * 30_000 + b"]" * 30_000, "not valid JSON"),  # nested deeper than a parser recurses
    ],
)
def test_bad_upload_requests_are_400(api: str, body: Any, message: str) -> None:
    response = _post(api, "/uploads", body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_jobs_are_listed_newest_first_with_pagination(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    first = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"page-1", "uploads/page-1.jpg")
    second = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"page-2", "uploads/page-2.jpg")

    page = requests.get(f"{api}/jobs", params={"limit": 1}, timeout=10).json()
    assert [job["jobId"] for job in page["jobs"]] == [second.job["jobId"]]
    assert page["nextToken"]
    following = requests.get(f"{api}/jobs", params={"limit": 1, "nextToken": page["nextToken"]}, timeout=10).json()
    assert [job["jobId"] for job in following["jobs"]] == [first.job["jobId"]]
    everything = requests.get(f"{api}/jobs", params={"limit": 50}, timeout=10).json()["jobs"]
    started = [job["startedAt"] for job in everything]
    assert started == sorted(started, reverse=True)


WRONG_SHAPE_TOKEN = base64.urlsafe_b64encode(json.dumps({"jobId": {"S": "x"}, "evil": 1}).encode()).decode()


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 51}, {"limit": "x"}, {"nextToken": "garbage!"}, {"nextToken": WRONG_SHAPE_TOKEN}],
)
def test_bad_list_parameters_are_400(api: str, params: dict[str, Any]) -> None:
    assert requests.get(f"{api}/jobs", params=params, timeout=10).status_code == 400


def test_job_details(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["astronaut-portrait-exif6.jpg"].read_bytes() + b"api", "uploads/api.jpg")
    job = requests.get(f"{api}/jobs/{run.job['jobId']}", timeout=30).json()

    assert job["status"] == "SUCCEEDED" and job["key"] == "uploads/api.jpg" and job["consoleUrl"] is None
    names = [state["name"] for state in job["states"]]
    assert names[:4] == ["DescribeUpload", "RecordJob", "Validate", "Route"]
    assert all(state["status"] == "succeeded" and state["enteredAt"] for state in job["states"])
    assert {node["name"] for node in job["graph"]["nodes"]} >= {"ProcessImage", "TransformImage", "JobFailed"}
    assert len(job["renditions"]) == 2
    image = requests.get(job["renditions"][0]["url"], timeout=10)
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    assert job["results"]["labels"][0]["label"] == "face"
    assert job["results"]["framesWithDetections"][0]["detections"][0]["box"]["width"] > 0


def test_failed_job_details_explain_the_error(api: str, stack: LocalStack) -> None:
    run = run_upload(stack, b"plain text", "uploads/readme.jpg")
    job = requests.get(f"{api}/jobs/{run.job['jobId']}", timeout=30).json()

    assert job["failure"]["error"] == "UnsupportedMediaType"
    assert "(extension .jpg) is text" in job["failure"]["message"]
    assert "not an image or video" in job["failure"]["reason"]
    validate = next(state for state in job["states"] if state["name"] == "Validate")
    assert validate["status"] == "failed" and validate["error"] == "UnsupportedMediaType"


def test_unknown_job_is_404(api: str) -> None:
    response = requests.get(f"{api}/jobs/does-not-exist", timeout=10)
    assert response.status_code == 404 and "does-not-exist" in response.json()["message"]


def test_an_awkward_key_is_decoded_exactly_once_on_the_way_to_the_email_and_the_page(
    api: str, stack: LocalStack, samples: dict[str, Path]
) -> None:
    """S3 URL-encodes the key in its event (`+` for spaces, `%2B` for `+`, `%23` for `#`);
    DescribeUpload decodes it once and everything downstream shows the name as uploaded."""
    key = "uploads/vacances d'été + amis #1.jpg"
    run = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"awkward", key)
    assert run.status == "SUCCEEDED", run.execution
    sent = json.loads(run.execution["input"])["detail"]["object"]["key"]
    assert sent == "uploads/vacances+d%27%C3%A9t%C3%A9+%2B+amis+%231.jpg", "the event carries it encoded, as S3 does"

    assert run.job["key"] == key
    (email,) = emails_about(stack, run.job["jobId"])
    assert f"File: {key}\n" in email.get_content()
    page = requests.get(f"{api}/jobs/{run.job['jobId']}", timeout=30).json()
    assert page["key"] == key
    listed = requests.get(f"{api}/jobs", params={"limit": 50}, timeout=30).json()["jobs"]
    assert [job["key"] for job in listed if job["jobId"] == run.job["jobId"]] == [key]
    results = json.loads(requests.get(page["results"]["resultsUrl"], timeout=30).content)
    assert results["source"]["key"] == key
