"""template.yaml passes cfn-lint, the SAM transform and checkov (SAM and translated); each gate
goes red when a scratch copy is broken."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT
from tests.gates.sam_package import translated, write_json
from tests.gates.tools import CFN_LINT, CHECKOV, run_tool

TEMPLATE = REPO_ROOT / "template.yaml"


def _checkov(*files: Path) -> dict:
    args = ["--skip-download", "--quiet", "--compact", "--framework", "cloudformation", "-o", "json"]
    for file in files:
        args += ["-f", str(file)]
    result = run_tool(CHECKOV, *args)
    reports = json.loads(
        result.output[
            result.output.index("[") if result.output.lstrip().startswith("[") else result.output.index("{") :
        ]
    )
    reports = reports if isinstance(reports, list) else [reports]
    failed = [check for report in reports for check in report.get("results", {}).get("failed_checks", [])]
    return {"failed": failed, "returncode": result.returncode}


def _scratch_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = TEMPLATE.read_text()
    assert old in text
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(old, new, 1))
    for folder in ("lambdas", "statemachines"):
        (tmp_path / folder).symlink_to(REPO_ROOT / folder)
    return copy


def test_cfn_lint_finds_no_errors() -> None:
    result = run_tool(CFN_LINT, str(TEMPLATE))
    assert result.returncode == 0, result.output


def test_cfn_lint_catches_a_misspelt_property(tmp_path: Path) -> None:
    broken = _scratch_copy(tmp_path, "      BillingMode: PAY_PER_REQUEST", "      BilingMode: PAY_PER_REQUEST")
    result = run_tool(CFN_LINT, str(broken))
    assert result.returncode != 0
    assert "BilingMode" in result.output


def test_sam_transform_succeeds() -> None:
    resources = translated(TEMPLATE)["Resources"]
    assert resources["MediaPipelineStateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    rule = resources["MediaPipelineStateMachineUploadCreated"]
    assert rule["Type"] == "AWS::Events::Rule"
    assert rule["Properties"]["EventPattern"]["detail"]["object"]["key"] == [{"prefix": {"Ref": "UploadPrefix"}}]


def test_least_privilege_no_wildcard_action_on_wildcard_resource() -> None:
    """Only the vended-log delivery statement may use Resource "*" (those APIs have no
    resource-level permissions), and no statement may allow every action."""
    for logical_id, resource in translated(TEMPLATE)["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any(a in ("*", "s3:*", "dynamodb:*", "sns:*", "lambda:*") for a in actions), logical_id
                if statement.get("Resource") == "*":
                    assert all(a.startswith(("logs:", "xray:")) for a in actions), (logical_id, actions)


def test_checkov_passes_sam_and_translated_templates(tmp_path: Path) -> None:
    translated_file = write_json(translated(TEMPLATE), tmp_path / "translated.json")
    report = _checkov(TEMPLATE, translated_file)
    assert report["failed"] == [], [(c["check_id"], c["resource"]) for c in report["failed"]]


def test_every_checkov_skip_has_a_reason() -> None:
    """Skips live in .checkov.yaml, one check a line, each with its reason as a comment."""
    config = REPO_ROOT / ".checkov.yaml"
    skipped = yaml.safe_load(config.read_text())["skip-check"]
    lines = {line.split("#")[0].strip(" -"): line for line in config.read_text().splitlines() if "- CKV" in line}
    assert skipped and sorted(skipped) == sorted(lines)
    reasons = {check: lines[check].split("#", 1)[1].strip() if "#" in lines[check] else "" for check in skipped}
    assert all(len(reason) > 30 for reason in reasons.values()), reasons
    assert "checkov" not in TEMPLATE.read_text(), "skips belong in .checkov.yaml, not in the template"


def test_checkov_catches_public_access_block_turned_off(tmp_path: Path) -> None:
    broken = _scratch_copy(tmp_path, "        BlockPublicPolicy: true", "        BlockPublicPolicy: false")
    report = _checkov(broken)
    assert {c["check_id"] for c in report["failed"]} >= {"CKV_AWS_54"}


def public_allow_statements(template_path: Path) -> list[dict]:
    """Bucket policy statements that allow anyone ("*"). checkov 3.3.30 only flags
    Principal "*" with Action "*", so this gate covers the common s3:GetObject mistake."""
    found = []
    for resource in translated(template_path)["Resources"].values():
        if resource["Type"] != "AWS::S3::BucketPolicy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            principal = statement.get("Principal")
            anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
            if statement["Effect"] == "Allow" and anyone and "Condition" not in statement:
                found.append(statement)
    return found


def test_no_bucket_policy_allows_anyone() -> None:
    assert public_allow_statements(TEMPLATE) == []


def test_public_read_policy_is_caught(tmp_path: Path) -> None:
    broken = _scratch_copy(
        tmp_path,
        "          - Sid: DenyInsecureTransport\n            Effect: Deny",
        '          - Sid: PublicRead\n            Effect: Allow\n            Principal: "*"\n'
        '            Action: "s3:GetObject"\n            Resource: !Sub "${MediaBucket.Arn}/*"\n'
        "          - Sid: DenyInsecureTransport\n            Effect: Deny",
    )
    assert [s["Sid"] for s in public_allow_statements(broken)] == ["PublicRead"]


def test_every_function_the_state_machine_the_intake_and_the_api_have_an_alarm() -> None:
    resources = translated(TEMPLATE)["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched = {
        (alarm["Namespace"], alarm["MetricName"], json.dumps(alarm["Dimensions"][0]["Value"], sort_keys=True))
        for alarm in alarms
    }
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 8
    for function in functions:
        assert ("AWS/Lambda", "Errors", json.dumps({"Ref": function})) in watched, function
    assert ("AWS/States", "ExecutionsFailed", json.dumps({"Ref": "MediaPipelineStateMachine"})) in watched
    dead_letters = json.dumps({"Fn::GetAtt": ["IntakeDeadLetterQueue", "QueueName"]}, sort_keys=True)
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dead_letters) in watched
    assert ("AWS/ApiGateway", "5xx", json.dumps({"Ref": "StatusHttpApi"})) in watched
    assert all(alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}] for alarm in alarms)
    dashboard = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert all("${" + function + "}" in dashboard for function in functions)


def test_the_upload_rule_retries_and_dead_letters_its_events() -> None:
    resources = translated(TEMPLATE)["Resources"]
    (target,) = resources["MediaPipelineStateMachineUploadCreated"]["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["IntakeDeadLetterQueue", "Arn"]}}
    queue = resources["IntakeDeadLetterQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 1209600 and queue["KmsMasterKeyId"] == "alias/aws/sqs"
