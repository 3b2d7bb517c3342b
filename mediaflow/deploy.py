"""Create the template's resources in the emulator, through the AWS APIs.

Everything is read from template.yaml (via mediaflow.template): names, parameters,
function settings, the state machine definition with its DefinitionSubstitutions and the
EventBridge rule of its Events. Nothing is configured twice.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from mediaflow.lambda_workers import FunctionSpec
from mediaflow.template import ACCOUNT_ID, ResolvedResource, Template

# Environment values that differ locally, applied over the template's.
LOCAL_ENVIRONMENT_OVERRIDES = {
    "CONSOLE_URL_PREFIX": "",  # there is no Step Functions console for the local emulator
    "ALLOWED_ORIGIN": "*",  # the local page and API share an origin on 127.0.0.1
}


def substitute_definition(definition: str, substitutions: dict[str, Any]) -> str:
    """Replace ${Name} placeholders as Step Functions' DefinitionSubstitutions does."""
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", str(value))
    return definition


def function_spec(template: Template, resource: ResolvedResource, environment: dict[str, str]) -> FunctionSpec:
    props = resource.properties
    layer_dirs = []
    for layer_arn in props.get("Layers", []):
        for layer in template.resources_of_type("AWS::Serverless::LayerVersion"):
            if template.physical_ids[layer.logical_id] == layer_arn:
                layer_dirs.append((template.root / layer.properties["ContentUri"]).resolve())
    variables = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
    return FunctionSpec(
        name=template.physical_ids[resource.logical_id],
        logical_id=resource.logical_id,
        code_dir=(template.root / props["CodeUri"]).resolve(),
        handler=props["Handler"],
        timeout_seconds=int(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
        environment={
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": template.physical_ids[resource.logical_id],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
            **variables,
            **{k: v for k, v in LOCAL_ENVIRONMENT_OVERRIDES.items() if k in variables},
        },
        layer_dirs=tuple(layer_dirs),
    )


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape -> the S3 API's."""
    converted: dict[str, Any] = {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return converted


def _observability(props: dict[str, Any]) -> dict[str, Any]:
    """The state machine's Logging and Tracing, in the Step Functions API's shape, as deployed."""
    settings: dict[str, Any] = {}
    logging = props.get("Logging")
    if logging:
        settings["loggingConfiguration"] = {
            "level": logging.get("Level", "OFF"),
            "includeExecutionData": bool(logging.get("IncludeExecutionData", False)),
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                for d in logging.get("Destinations", [])
            ],
        }
    if "Tracing" in props:
        settings["tracingConfiguration"] = {"enabled": bool(props["Tracing"].get("Enabled", False))}
    return settings


class Deployer:
    def __init__(
        self, template: Template, clients: Any, lambda_environment: dict[str, str], page_url: str | None = None
    ) -> None:
        self.template = template
        self.clients = clients  # callable: service name -> boto3 client
        self.lambda_environment = lambda_environment
        self.page_url = page_url
        self.functions: list[FunctionSpec] = []
        self._role_arn: str | None = None

    def deploy(self) -> list[FunctionSpec]:
        """Create every emulated resource; returns the functions for the local Lambda runtime."""
        self.functions = []
        handlers = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::SQS::Queue": self._queue,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Serverless::LayerVersion": lambda resource: None,  # its ContentUri goes on each function's path
            "AWS::Serverless::Function": self._function,
            "AWS::Serverless::StateMachine": self._state_machine,
        }
        # Other resource types (IAM, alarms, the HTTP API, CloudFront, Cognito) are not created:
        # docs/local-runtime.md says why for each.
        # Order matters: a subscription needs its topic, a rule its state machine.
        order = list(handlers)
        resources = sorted(self.template.resources(set(handlers)), key=lambda r: order.index(r.type))
        for resource in resources:
            handlers[resource.type](resource)
        return self.functions

    def _bucket(self, resource: ResolvedResource) -> None:
        s3 = self.clients("s3")
        name = self.template.physical_ids[resource.logical_id]
        s3.create_bucket(Bucket=name)
        props = resource.properties
        notification = props.get("NotificationConfiguration", {})
        if notification.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        if props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        if props.get("LifecycleConfiguration"):
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        # CloudFormation says ServerSideEncryptionByDefault where the S3 API says Apply...
                        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )

    def _table(self, resource: ResolvedResource) -> None:
        name = self.template.physical_ids[resource.logical_id]
        self.clients("dynamodb").create_table(**create_table_request(resource, name))

    def _topic(self, resource: ResolvedResource) -> None:
        name = self.template.attributes[(resource.logical_id, "TopicName")]
        self.clients("sns").create_topic(Name=name)

    def _subscription(self, resource: ResolvedResource) -> None:
        props = resource.properties
        self.clients("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes={"FilterPolicy": json.dumps(props["FilterPolicy"])} if "FilterPolicy" in props else {},
        )

    def _queue(self, resource: ResolvedResource) -> None:
        props = resource.properties
        attributes = {"MessageRetentionPeriod": str(props.get("MessageRetentionPeriod", 345600))}
        if "KmsMasterKeyId" in props:
            attributes["KmsMasterKeyId"] = str(props["KmsMasterKeyId"])
        name = self.template.attributes[(resource.logical_id, "QueueName")]
        self.clients("sqs").create_queue(QueueName=name, Attributes=attributes)

    def _log_group(self, resource: ResolvedResource) -> None:
        logs = self.clients("logs")
        name = self.template.physical_ids[resource.logical_id]
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in resource.properties:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(resource.properties["RetentionInDays"]))

    def _function(self, resource: ResolvedResource) -> None:
        spec = function_spec(self.template, resource, self.lambda_environment)
        self.functions.append(spec)
        self._register_function(spec, resource.properties)

    def _register_function(self, spec: FunctionSpec, props: dict[str, Any]) -> None:
        """Make the function visible to `aws lambda list-functions / get-function / invoke`; its
        invocations are answered by the local workers (moto_patches.serve_lambda_invocations)."""
        role = self._lambda_role()
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:  # the handler module only: enough for get-function
            module = spec.handler.rsplit(".", 1)[0]
            archive.write(spec.code_dir / f"{module}.py", f"{module}.py")
        template_variables = props.get("Environment", {}).get("Variables", {})
        self.clients("lambda").create_function(
            FunctionName=spec.name,
            Runtime=str(props.get("Runtime", "python3.12")),
            Role=role,
            Handler=spec.handler,
            Code={"ZipFile": code.getvalue()},
            Description=str(props.get("Description", "")),
            Timeout=spec.timeout_seconds,
            MemorySize=spec.memory_mb,
            Architectures=[str(a) for a in props.get("Architectures", ["x86_64"])],
            Environment={"Variables": {k: spec.environment[k] for k in template_variables}},
        )

    def _lambda_role(self) -> str:
        if self._role_arn is None:
            iam = self.clients("iam")
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
            name = f"{self.template.stack_name}-local-functions"
            self._role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        return self._role_arn

    def _state_machine(self, resource: ResolvedResource) -> None:
        props = resource.properties
        definition_path: Path = self.template.root / props["DefinitionUri"]
        substitutions = dict(props.get("DefinitionSubstitutions", {}))
        if "ConsoleExecutionUrlPrefix" in substitutions:
            # Emails link to the job on the local status page (it opens #execution=<arn>), not to AWS's console.
            substitutions["ConsoleExecutionUrlPrefix"] = f"{self.page_url}#execution=" if self.page_url else ""
        definition = substitute_definition(definition_path.read_text(), substitutions)
        arn = self.template.physical_ids[resource.logical_id]
        name = arn.rsplit(":", 1)[-1]
        role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-role"
        self.clients("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=role_arn,
            type=props.get("Type", "STANDARD"),
            **_observability(props),
        )
        events = self.clients("events")
        for event_id, event in props.get("Events", {}).items():
            if event["Type"] != "EventBridgeRule":
                continue  # the only event type the template uses
            rule_name = f"{name}-{event_id}"
            events.put_rule(Name=rule_name, EventPattern=json.dumps(event["Properties"]["Pattern"]), State="ENABLED")
            target = {"Id": event_id, "Arn": arn, "RoleArn": role_arn}
            for setting in ("RetryPolicy", "DeadLetterConfig"):  # moto_patches honours both
                if setting in event["Properties"]:
                    target[setting] = event["Properties"][setting]
            events.put_targets(Rule=rule_name, Targets=[target])


def create_table_request(resource: ResolvedResource, name: str) -> dict[str, Any]:
    """CreateTable's arguments for the template's AWS::DynamoDB::Table `resource`, named `name`."""
    props = resource.properties
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    return request
