"""Deploy smoke test: the translated template becomes a CloudFormation stack in moto."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from mediaflow.template import bind_template
from tests.conftest import REPO_ROOT
from tests.gates.sam_package import ARTIFACT_BUCKET, translated

# Resource types moto 5.2.5's CloudFormation does not create. Each is created here through its
# own API instead (see _create_skipped), so the stack still ends up with every resource; any
# other type moto skips fails the test.
MOTO_SKIPS_ALLOWED = [
    "AWS::S3::BucketPolicy",  # moto's CFN has no model; created with PutBucketPolicy
    "AWS::SNS::Subscription",  # moto's CFN has no model; created with Subscribe
    "AWS::Cognito::UserPool",  # moto's CFN has no model; created with CreateUserPool
    "AWS::Cognito::UserPoolClient",  # ... CreateUserPoolClient
    "AWS::Cognito::UserPoolDomain",  # ... CreateUserPoolDomain
    "AWS::ApiGatewayV2::Api",  # moto's CFN has no model; created with apigatewayv2 CreateApi
    "AWS::ApiGatewayV2::Stage",  # ... CreateStage
    "AWS::SQS::QueuePolicy",  # moto's CFN has no model; set with SetQueueAttributes(Policy)
    "AWS::CloudWatch::Alarm",  # moto's CFN has no model; created with PutMetricAlarm (after the API it watches)
]
# Types moto can neither create from CloudFormation nor through an API it models well enough:
# references to them are replaced by placeholders before the smoke deploy, and the resources
# are checked by cfn-lint and checkov instead.
MOTO_CANNOT_DEPLOY = {
    "AWS::CloudFront::Distribution": {"DomainName": "d111111abcdef8.cloudfront.net", "Ref": "E2EXAMPLE"},
    "AWS::CloudFront::OriginAccessControl": {"Id": "E3EXAMPLEOAC", "Ref": "E3EXAMPLEOAC"},
}


def _replace_references(value: Any, placeholders: dict[str, dict[str, str]]) -> Any:
    if isinstance(value, list):
        return [_replace_references(v, placeholders) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value and value["Ref"] in placeholders:
        return placeholders[value["Ref"]]["Ref"]
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in placeholders:
        return placeholders[value["Fn::GetAtt"][0]][value["Fn::GetAtt"][1]]
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        for logical_id, attributes in placeholders.items():
            for attribute, replacement in attributes.items():
                text = text.replace(
                    "${" + (logical_id if attribute == "Ref" else f"{logical_id}.{attribute}") + "}", replacement
                )
        return {"Fn::Sub": text}
    return {k: _replace_references(v, placeholders) for k, v in value.items()}


def _without_undeployable(template: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    placeholders = {
        logical_id: MOTO_CANNOT_DEPLOY[resource["Type"]]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in MOTO_CANNOT_DEPLOY
    }
    kept = {k: v for k, v in template["Resources"].items() if k not in placeholders}
    return _replace_references({**template, "Resources": kept}, placeholders), sorted(placeholders)


def _inline_s3_definitions(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation does with DefinitionS3Location + DefinitionSubstitutions (moto ignores
    both): fetch the definition and substitute, expressed as DefinitionString with Fn::Sub."""
    for resource in template["Resources"].values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and "DefinitionS3Location" in props:
            key = props.pop("DefinitionS3Location")["Key"]
            logical_id = key.removesuffix(".asl.json")
            definition_uri = _sam_definition_uri(logical_id)
            props["DefinitionString"] = {
                "Fn::Sub": [(REPO_ROOT / definition_uri).read_text(), props.pop("DefinitionSubstitutions", {})]
            }
    return template


def _sam_definition_uri(logical_id: str) -> str:
    from mediaflow.template import load_template

    return load_template(REPO_ROOT / "template.yaml")["Resources"][logical_id]["Properties"]["DefinitionUri"]


def _upload_artifacts(template: dict[str, Any]) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion"):
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=f"{logical_id}.zip", Body=_zip_of(Path("app.py"), b"x=1\n"))


def _zip_of(name: Path, content: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(str(name), content)
    return out.getvalue()


@mock_aws
def test_translated_template_reaches_create_complete_with_every_resource() -> None:
    template, undeployable = _without_undeployable(_inline_s3_definitions(translated(REPO_ROOT / "template.yaml")))
    assert undeployable == ["FrontendDistribution", "FrontendOriginAccessControl"]
    _upload_artifacts(template)
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(
        StackName="mediaflow",
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    for _ in range(50):
        status = cfn.describe_stacks(StackName="mediaflow")["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.1)
    assert status == "CREATE_COMPLETE"

    summaries = cfn.list_stack_resources(StackName="mediaflow")["StackResourceSummaries"]
    created = {r["LogicalResourceId"] for r in summaries}
    # Resources whose Condition is false for the default parameters are rightly not created.
    conditions = bind_template(REPO_ROOT / "template.yaml")
    expected = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or conditions.condition(resource["Condition"])
    }
    assert len(expected) < len(template["Resources"]), "the conditional backend policies are left out"
    missing = {logical_id: expected[logical_id]["Type"] for logical_id in set(expected) - created}
    unexplained = {k: v for k, v in missing.items() if v not in MOTO_SKIPS_ALLOWED}
    assert unexplained == {}, f"moto skipped resources not on the allowed list: {unexplained}"
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}
    parameters = {name: str(p["Default"]) for name, p in template["Parameters"].items() if "Default" in p}
    # The list's order creates parents (pool, API) before their children.
    for logical_id, resource_type in sorted(missing.items(), key=lambda item: MOTO_SKIPS_ALLOWED.index(item[1])):
        props = expected[logical_id]["Properties"]
        if resource_type.startswith(("AWS::Cognito", "AWS::ApiGatewayV2")):
            _create_identity_and_api(resource_type)
            if resource_type == "AWS::ApiGatewayV2::Api":
                physical[logical_id] = _created["api"]
        else:
            _create_skipped(resource_type, _resolve(props, physical | parameters))
    _assert_skipped_resources_exist(physical)

    # The state machine got the real, substituted definition.
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["definition"])
    assert definition["States"]["Validate"]["Parameters"]["FunctionName"].startswith("arn:aws:lambda:us-east-1:")
    assert "${" not in json.dumps(definition)


def _resolve(value: Any, physical: dict[str, str]) -> Any:
    """Enough of CloudFormation's intrinsics for the properties of the skipped resources."""
    if isinstance(value, list):
        return [_resolve(v, physical) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return physical[value["Ref"]]
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        physical_id = physical[logical_id]
        if physical_id.startswith("https://sqs."):  # a queue: its Ref is the URL
            name = physical_id.rsplit("/", 1)[-1]
            return {"QueueName": name, "Arn": f"arn:aws:sqs:us-east-1:123456789012:{name}"}[attribute]
        if logical_id.endswith("UploadCreated"):  # the EventBridge rule SAM generates
            return f"arn:aws:events:us-east-1:123456789012:rule/{physical_id}"
        assert attribute == "Arn" and not physical_id.startswith("arn:")
        return f"arn:aws:s3:::{physical_id}"
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for logical_id, physical_id in physical.items():
            text = text.replace("${" + logical_id + ".Arn}", f"arn:aws:s3:::{physical_id}")
        return text
    return {k: _resolve(v, physical) for k, v in value.items()}


def _create_skipped(resource_type: str, props: dict[str, Any]) -> None:
    if resource_type == "AWS::S3::BucketPolicy":
        boto3.client("s3", region_name="us-east-1").put_bucket_policy(
            Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
        )
    elif resource_type == "AWS::SNS::Subscription":
        boto3.client("sns", region_name="us-east-1").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )
    elif resource_type == "AWS::SQS::QueuePolicy":
        for queue_url in props["Queues"]:
            boto3.client("sqs", region_name="us-east-1").set_queue_attributes(
                QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
            )
    elif resource_type == "AWS::CloudWatch::Alarm":
        boto3.client("cloudwatch", region_name="us-east-1").put_metric_alarm(
            AlarmName=props["MetricName"] + "-" + str(props["Dimensions"][0]["Value"]).rsplit(":", 1)[-1],
            AlarmDescription=props["AlarmDescription"],
            Namespace=props["Namespace"],
            MetricName=props["MetricName"],
            Dimensions=props["Dimensions"],
            Statistic=props["Statistic"],
            Period=props["Period"],
            EvaluationPeriods=props["EvaluationPeriods"],
            Threshold=props["Threshold"],
            ComparisonOperator=props["ComparisonOperator"],
            TreatMissingData=props["TreatMissingData"],
            AlarmActions=props["AlarmActions"],
        )


_created: dict[str, str] = {}


def _create_identity_and_api(resource_type: str) -> None:
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    apis = boto3.client("apigatewayv2", region_name="us-east-1")
    if resource_type == "AWS::Cognito::UserPool":
        _created["pool"] = cognito.create_user_pool(PoolName="mediaflow-status")["UserPool"]["Id"]
    elif resource_type == "AWS::Cognito::UserPoolClient":
        cognito.create_user_pool_client(
            UserPoolId=_created["pool"],
            ClientName="status-page",
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
        )
    elif resource_type == "AWS::Cognito::UserPoolDomain":
        cognito.create_user_pool_domain(Domain="mediaflow-123456789012", UserPoolId=_created["pool"])
    elif resource_type == "AWS::ApiGatewayV2::Api":
        _created["api"] = apis.create_api(Name="mediaflow-status", ProtocolType="HTTP")["ApiId"]
    elif resource_type == "AWS::ApiGatewayV2::Stage":
        apis.create_stage(ApiId=_created["api"], StageName="$default", AutoDeploy=True)


def _assert_skipped_resources_exist(physical: dict[str, str]) -> None:
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    (pool,) = cognito.list_user_pools(MaxResults=10)["UserPools"]
    assert len(cognito.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=10)["UserPoolClients"]) == 1
    (api,) = boto3.client("apigatewayv2", region_name="us-east-1").get_apis()["Items"]
    assert api["ProtocolType"] == "HTTP"
    policy = json.loads(
        boto3.client("s3", region_name="us-east-1").get_bucket_policy(Bucket=physical["MediaBucket"])["Policy"]
    )
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subscriptions = boto3.client("sns", region_name="us-east-1").list_subscriptions()["Subscriptions"]
    assert [s["Protocol"] for s in subscriptions] == ["email"]
    alarms = boto3.client("cloudwatch", region_name="us-east-1").describe_alarms()["MetricAlarms"]
    declared = [r for r in translated(REPO_ROOT / "template.yaml")["Resources"].values() if r["Type"].endswith("Alarm")]
    assert len(alarms) == len(declared) >= 11
    assert all(alarm["AlarmActions"] == [physical["NotificationTopic"]] for alarm in alarms)


def test_dashboard_body_is_valid_json_naming_the_stack_resources() -> None:
    template = translated(REPO_ROOT / "template.yaml")
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # Substitute the references the way Fn::Sub would, with placeholders, and parse.
    for name in ("AWS::Region", "MediaPipelineStateMachine", "ValidateFunction", "TransformImageFunction"):
        assert "${" + name + "}" in body
        body = body.replace("${" + name + "}", "x")
    widgets = json.loads(body)["widgets"]
    titles = {w["properties"]["title"] for w in widgets}
    assert titles == {
        "Executions",
        "Execution duration (ms)",
        "Lambda errors and throttles",
        "Media processed (Powertools metrics)",
        "Intake dead letters and status API 5xx",
    }
