"""Read template.yaml the way CloudFormation would, for the local runtime.

Loads the YAML short-form tags (!Ref, !Sub, ...), applies parameter defaults and overrides,
merges the SAM Globals into each function and resolves the intrinsic functions the template
uses. A small resolver is written here on purpose: cfn-lint's decoder would make the
runtime depend on a linter, and moto's CloudFormation ignores DefinitionSubstitutions and
the bucket's EventBridge configuration (see docs/local-runtime.md).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mediaflow.parameters import bind_parameters

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    """template.yaml uses something the local runtime cannot resolve."""


class _CfnLoader(yaml.SafeLoader):
    pass


def _short_form(function: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if function == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {function: value}

    return construct


for _tag in ("Ref", "Condition"):
    _CfnLoader.add_constructor(f"!{_tag}", _short_form(_tag))
for _tag in (
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
):
    _CfnLoader.add_constructor(f"!{_tag}", _short_form(f"Fn::{_tag}"))


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


@dataclass
class ResolvedResource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Template:
    """A template with parameters bound and physical names chosen for one local stack."""

    path: Path
    raw: dict[str, Any]
    parameters: dict[str, str]
    stack_name: str
    physical_ids: dict[str, str]
    attributes: dict[tuple[str, str], str]

    @property
    def root(self) -> Path:
        return self.path.parent

    def resources_of_type(self, resource_type: str) -> list[ResolvedResource]:
        return self.resources({resource_type})

    def resource_types(self) -> dict[str, str]:
        """Logical id -> type of every resource whose Condition (if any) holds."""
        return {
            logical_id: resource["Type"]
            for logical_id, resource in self.raw.get("Resources", {}).items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def resources(self, types: set[str] | None = None) -> list[ResolvedResource]:
        """Resources (of `types`, if given) with properties resolved; conditional ones only if they apply."""
        resolved = []
        for logical_id, resource_type in self.resource_types().items():
            if types is not None and resource_type not in types:
                continue
            resource = self.raw["Resources"][logical_id]
            properties = copy.deepcopy(resource.get("Properties", {}))
            if resource["Type"] == "AWS::Serverless::Function":
                properties = _merge_globals(self.raw.get("Globals", {}).get("Function", {}), properties)
            resolved.append(
                ResolvedResource(logical_id, resource["Type"], self.resolve(properties), resource.get("Metadata", {}))
            )
        return resolved

    # -- intrinsic functions -------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):  # AWS::NoValue (None) removes a list item, as in CloudFormation
            return [item for item in (self.resolve(v) for v in value) if item is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            handler = _INTRINSICS.get(name)
            if handler is not None:
                return handler(self, argument)
        return {k: self.resolve(v) for k, v in value.items()}

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]  # type: ignore[return-value]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not supported locally") from None

    def sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.raw.get("Conditions", {})[name]))


def _merge_globals(global_properties: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (function wins), lists concatenate, scalars are overridden."""
    merged = copy.deepcopy(global_properties)
    for key, value in properties.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = copy.deepcopy(value)
    return merged


_INTRINSICS = {
    "Ref": lambda t, a: t.ref(a),
    "Fn::GetAtt": lambda t, a: t.get_att(*(a if isinstance(a, list) else a.split(".", 1))),
    "Fn::Sub": lambda t, a: t.sub(a),
    "Fn::Join": lambda t, a: a[0].join(str(v) for v in t.resolve(a[1])),
    "Fn::Select": lambda t, a: t.resolve(a[1])[int(t.resolve(a[0]))],
    "Fn::Split": lambda t, a: t.resolve(a[1]).split(a[0]),
    "Fn::Equals": lambda t, a: t.resolve(a[0]) == t.resolve(a[1]),
    "Fn::Not": lambda t, a: not t.resolve(a[0]),
    "Fn::And": lambda t, a: all(t.resolve(v) for v in a),
    "Fn::Or": lambda t, a: any(t.resolve(v) for v in a),
    "Fn::If": lambda t, a: t.resolve(a[1] if t.condition(a[0]) else a[2]),
    "Condition": lambda t, a: t.condition(a),
}


def _physical_name(stack_name: str, logical_id: str, suffix: str) -> str:
    return f"{stack_name}-{logical_id}-{suffix}".lower()


def bind_template(
    path: Path, stack_name: str = "mediaflow", overrides: dict[str, str] | None = None, suffix: str = "local"
) -> Template:
    """Bind parameters and choose each resource's physical id and ARN-style attributes."""
    raw = load_template(path)
    parameters = bind_parameters(raw.get("Parameters", {}), overrides)

    physical_ids: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    arn = f"{REGION}:{ACCOUNT_ID}"
    for logical_id, resource in raw.get("Resources", {}).items():
        kind = resource["Type"]
        name = _physical_name(stack_name, logical_id, suffix)
        if kind == "AWS::S3::Bucket":
            physical_ids[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        elif kind == "AWS::DynamoDB::Table":
            physical_ids[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{arn}:table/{name}"
        elif kind == "AWS::SNS::Topic":
            topic_arn = f"arn:aws:sns:{arn}:{name}"
            physical_ids[logical_id] = topic_arn
            attributes[(logical_id, "TopicName")] = name
            attributes[(logical_id, "TopicArn")] = topic_arn
        elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            physical_ids[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:lambda:{arn}:function:{name}"
        elif kind == "AWS::Serverless::LayerVersion":
            physical_ids[logical_id] = f"arn:aws:lambda:{arn}:layer:{name}:1"
        elif kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            sm_arn = f"arn:aws:states:{arn}:stateMachine:{name}"
            physical_ids[logical_id] = sm_arn
            attributes[(logical_id, "Arn")] = sm_arn
            attributes[(logical_id, "Name")] = name
        elif kind == "AWS::Logs::LogGroup":
            physical_ids[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:logs:{arn}:log-group:{name}:*"
        elif kind == "AWS::SQS::Queue":
            physical_ids[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"  # Ref is the URL
            attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{arn}:{name}"
            attributes[(logical_id, "QueueName")] = name
        elif kind == "AWS::CloudFront::Distribution":
            # Locally the page is served by `mediaflow up` itself, on the same origin as its API.
            physical_ids[logical_id] = name
            attributes[(logical_id, "DomainName")] = "127.0.0.1"
        else:
            physical_ids[logical_id] = name
    template = Template(path, raw, parameters, stack_name, physical_ids, attributes)
    # Names given explicitly in the template win over generated ones.
    for logical_id, resource in raw.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in props:
            name = template.resolve(props["LogGroupName"])
            physical_ids[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:logs:{arn}:log-group:{name}:*"
        if resource["Type"] == "AWS::Serverless::StateMachine" and "Name" in props:
            name = template.resolve(props["Name"])
            sm_arn = f"arn:aws:states:{arn}:stateMachine:{name}"
            physical_ids[logical_id] = sm_arn
            attributes[(logical_id, "Arn")] = sm_arn
            attributes[(logical_id, "Name")] = name
    return template
