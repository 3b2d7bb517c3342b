"""Template parameters as `sam deploy` takes and CloudFormation checks them, before anything starts.

Overrides come as `Name=Value`, as SAM's `ParameterKey=Name,ParameterValue=Value`, or several
in one argument separated by spaces (`--parameter-overrides 'A=1 B=2'`). Each value is checked
against its declaration (Type, AllowedValues, AllowedPattern, Min/MaxValue, Min/MaxLength);
the first broken rule is one line naming the parameter and the rule.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any

_SAM_FORM = re.compile(r"^ParameterKey=(?P<name>[^,]+),ParameterValue=(?P<value>.*)$")


class ParameterError(ValueError):
    """An override that CloudFormation would refuse, in one line."""


def parse_overrides(arguments: Iterable[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for argument in arguments:
        for item in shlex.split(argument) if " " in argument and "=" in argument.split(" ", 1)[1] else [argument]:
            sam = _SAM_FORM.match(item)
            name, sep, value = (sam["name"], "=", sam["value"]) if sam else item.partition("=")
            if not sep or not name:
                raise ParameterError(f"{item!r}: expected Name=Value or ParameterKey=Name,ParameterValue=Value")
            overrides[name] = value
    return overrides


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def check_parameter(name: str, declaration: dict[str, Any], value: str) -> None:
    """Raise ParameterError when `value` breaks a rule of `declaration`."""
    kind = declaration.get("Type", "String")
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        raise ParameterError(f"{name}={value!r} is not one of the allowed values: {', '.join(map(str, allowed))}")
    if kind == "Number":
        number = _number(value)
        if number is None:
            raise ParameterError(f"{name}={value!r} must be a number")
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            raise ParameterError(f"{name}={value} is below the minimum {declaration['MinValue']}")
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            raise ParameterError(f"{name}={value} is above the maximum {declaration['MaxValue']}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:  # CloudFormation matches the whole value
        hint = declaration.get("ConstraintDescription") or f"must match {pattern}"
        raise ParameterError(f"{name}={value!r} {hint}")
    if "MinLength" in declaration and len(value) < int(declaration["MinLength"]):
        raise ParameterError(f"{name} must be at least {declaration['MinLength']} characters")
    if "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]):
        raise ParameterError(f"{name} must be at most {declaration['MaxLength']} characters")


def bind_parameters(declarations: dict[str, dict[str, Any]], overrides: dict[str, str] | None) -> dict[str, str]:
    """Every parameter's value: its override (checked) or its default."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(declarations))
    if unknown:
        known = ", ".join(sorted(declarations))
        raise ParameterError(f"unknown parameter {', '.join(unknown)}; the template declares: {known}")
    values: dict[str, str] = {}
    for name, declaration in declarations.items():
        if name in overrides:
            check_parameter(name, declaration, overrides[name])
            values[name] = overrides[name]
        elif "Default" in declaration:
            values[name] = str(declaration["Default"])
        else:
            raise ParameterError(f"parameter {name} has no default; pass --parameter {name}=VALUE")
    return values
