"""SAM template model: YAML loading (with CloudFormation short-form tags), ``Fn::ForEach`` expansion
(``AWS::LanguageExtensions``), parameters and Globals.

Only the *structure* of the template lives here; turning intrinsic functions into values is the job of
:mod:`local_runtime.intrinsics`, and creating AWS resources is the job of :mod:`local_runtime.resources`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
API_TYPE = "AWS::Serverless::Api"
TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 - a type name
GATEWAY_RESPONSE_TYPE = "AWS::ApiGateway::GatewayResponse"
WS_API_TYPE = "AWS::ApiGatewayV2::Api"
WS_ROUTE_TYPE = "AWS::ApiGatewayV2::Route"
WS_ROUTE_RESPONSE_TYPE = "AWS::ApiGatewayV2::RouteResponse"
WS_INTEGRATION_TYPE = "AWS::ApiGatewayV2::Integration"
WS_STAGE_TYPE = "AWS::ApiGatewayV2::Stage"
WS_DEPLOYMENT_TYPE = "AWS::ApiGatewayV2::Deployment"

# Globals.Function keys whose dict values are merged (function wins) instead of replaced.
_MERGED_GLOBAL_KEYS = ("Environment", "Tags")
# Globals.Function keys whose list values are concatenated (Globals first), as SAM does.
_APPENDED_GLOBAL_KEYS = ("Layers",)


class TemplateError(Exception):
    """The template uses something the local runtime does not understand."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Ref x` / `!GetAtt a.b` / `!Sub ...` ... into their long JSON forms."""


def _construct_node(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _make_tag_constructor(tag: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value = _construct_node(loader, node)
        if tag == "Ref":
            return {"Ref": value}
        if tag == "Condition":
            return {"Condition": value}
        if tag == "GetAtt" and isinstance(value, str):
            logical_id, _, attribute = value.partition(".")
            value = [logical_id, attribute]
        return {f"Fn::{tag}": value}

    return construct


for _tag in (
    "Ref",
    "Condition",
    "GetAtt",
    "Sub",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
    "Transform",
    "ToJsonString",
    "Length",
):
    _CfnLoader.add_constructor(f"!{_tag}", _make_tag_constructor(_tag))


def parse_yaml(text: str) -> Any:
    """Parse CloudFormation YAML (short-form tags become `{"Ref": ...}` / `{"Fn::X": ...}`)."""
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - _CfnLoader is a SafeLoader subclass


_FOR_EACH = "Fn::ForEach::"
_LOOP_SECTIONS = ("Resources", "Outputs", "Conditions")


def expand_language_extensions(document: dict[str, Any], parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``document`` with every ``Fn::ForEach::<Loop>`` of Resources, Outputs and Conditions expanded, as the
    ``AWS::LanguageExtensions`` transform does before SAM's (CloudFormation, ``sam build``, cfn-lint do the same).

    ``[Identifier, Collection, {OutputKey: Fragment}]``: for each value of the collection (a list, or a ``Ref`` to a
    CommaDelimitedList parameter), ``${Identifier}`` / ``&{Identifier}`` are replaced in the output keys and in
    ``Fn::Sub`` strings, ``Ref Identifier`` becomes the value and ``Ref: !Sub "${Identifier}X"`` a Ref to the
    logical id it names. Loops nest. Hand-written because no library
    here exposes the transform (cfn-lint's is private API); ``tests/integration/test_template_snapshot.py``
    checks what it yields.
    """
    expanded = dict(document)
    for section in _LOOP_SECTIONS:
        if isinstance(document.get(section), dict):
            expanded[section] = _expand_section(document[section], dict(parameters or {}), section)
    transform = expanded.get("Transform")
    if isinstance(transform, list):
        remaining = [name for name in transform if name != "AWS::LanguageExtensions"]
        expanded["Transform"] = remaining[0] if len(remaining) == 1 else remaining
    return expanded


def _expand_section(section: dict[str, Any], parameters: dict[str, str], where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith(_FOR_EACH):
            if key in result:
                raise TemplateError(f"{where}.{key} is also made by a Fn::ForEach loop")
            result[key] = value
            continue
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[2], dict)):
            raise TemplateError(f"{where}.{key}: expected [Identifier, Collection, {{OutputKey: Fragment}}]")
        identifier, collection, fragment = value
        for item in _collection(collection, parameters, f"{where}.{key}"):
            produced = _expand_section(_substitute(fragment, identifier, item), parameters, where)
            clash = sorted(set(produced) & set(result))
            if clash:
                raise TemplateError(f"{where}.{key}: {clash} defined twice")
            result.update(produced)
    return result


def _collection(value: Any, parameters: dict[str, str], where: str) -> list[str]:
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return [item.strip() for item in parameters[value["Ref"]].split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise TemplateError(f"{where}: the collection must be a list of strings or a Ref to a list parameter")


def _substitute(value: Any, identifier: str, item: str) -> Any:
    pattern = re.compile(r"[$&]\{" + re.escape(identifier) + r"\}")

    alphanumeric = re.sub(r"[^A-Za-z0-9]", "", item)  # &{Identifier}: the value without its other characters

    def text(string: str) -> str:
        return pattern.sub(lambda match: item if match.group(0)[0] == "$" else alphanumeric, string)

    if isinstance(value, list):
        return [_substitute(element, identifier, item) for element in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] == identifier:
        return item
    if set(value) == {"Ref"} and isinstance(value["Ref"], dict):  # Ref: !Sub "${Identifier}Function"
        target = _substitute(value["Ref"], identifier, item)
        return {"Ref": _literal(target)}
    if set(value) == {"Fn::Sub"}:
        sub = value["Fn::Sub"]
        if isinstance(sub, str):
            return {"Fn::Sub": text(sub)}
        return {"Fn::Sub": [text(sub[0]), _substitute(sub[1], identifier, item)]}
    return {text(key): _substitute(element, identifier, item) for key, element in value.items()}


def _literal(value: Any) -> Any:
    """A ``Fn::Sub`` left without variables is its string (as the transform does for Ref/GetAtt arguments)."""
    text = value.get("Fn::Sub") if isinstance(value, dict) and set(value) == {"Fn::Sub"} else None
    return text if isinstance(text, str) and "${" not in text else value


@dataclass
class Template:
    """A parsed SAM template plus the parameter values it is evaluated with."""

    path: Path
    document: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document.get("Resources") or {}

    @property
    def conditions(self) -> dict[str, Any]:
        return self.document.get("Conditions") or {}

    @property
    def mappings(self) -> dict[str, Any]:
        return self.document.get("Mappings") or {}

    def resource(self, logical_id: str) -> dict[str, Any]:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise TemplateError(f"resource {logical_id!r} is not defined in {self.path}") from None

    def resource_type(self, logical_id: str) -> str:
        return str(self.resource(logical_id).get("Type", ""))

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resource(logical_id).get("Properties") or {}

    def ids_of_type(self, resource_type: str) -> list[str]:
        return [lid for lid, res in self.resources.items() if res.get("Type") == resource_type]

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """Properties of a serverless function with Globals.Function merged in (function values win)."""
        if self.resource_type(logical_id) != FUNCTION_TYPE:
            raise TemplateError(f"{logical_id!r} is not an {FUNCTION_TYPE}")
        globals_ = copy.deepcopy((self.document.get("Globals") or {}).get("Function") or {})
        return merge_globals(globals_, copy.deepcopy(self.properties(logical_id)))

    def resource_env(self) -> dict[str, str]:
        """Every environment variable a function sets to ``!Ref <resource>``, with that resource's logical id
        (``{"JOBS_TABLE": "JobsTable", ...}``): what points the package at a stack created in process."""
        found: dict[str, str] = {}
        for function_id in self.ids_of_type(FUNCTION_TYPE):
            variables = (self.function_properties(function_id).get("Environment") or {}).get("Variables") or {}
            for name, value in variables.items():
                if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.resources:
                    found[name] = value["Ref"]
        return found

    def api_properties(self, logical_id: str) -> dict[str, Any]:
        globals_ = copy.deepcopy((self.document.get("Globals") or {}).get("Api") or {})
        return merge_globals(globals_, copy.deepcopy(self.properties(logical_id)))


def merge_globals(globals_: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = dict(globals_)
    for key, value in own.items():
        base = merged.get(key)
        if key in _MERGED_GLOBAL_KEYS and isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _deep_merge(base, value)
        elif key in _APPENDED_GLOBAL_KEYS and isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(result.get(key), dict) and isinstance(value, dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def load_template(path: str | Path, parameter_overrides: Mapping[str, str] | None = None) -> Template:
    """Load a SAM template and compute its parameter values (defaults, then overrides).

    Raises TemplateError for an override of an unknown parameter or a parameter with neither a default
    nor an override.
    """
    template_path = Path(path).resolve()
    document = parse_yaml(template_path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TemplateError(f"{template_path} is not a CloudFormation template")
    declared: dict[str, Any] = document.get("Parameters") or {}
    overrides = dict(parameter_overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"parameter override(s) {unknown} not declared in {template_path}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in (spec or {}):
            default = spec["Default"]
            values[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        else:
            raise TemplateError(f"parameter {name!r} has no Default; pass it as an override")
    document = expand_language_extensions(document, values)
    return Template(path=template_path, document=document, parameters=values)


def function_url_ids(template: Template) -> list[str]:
    """Logical ids of the functions that declare a FunctionUrlConfig, in template order."""
    return [
        fid for fid in template.ids_of_type(FUNCTION_TYPE) if template.function_properties(fid).get("FunctionUrlConfig")
    ]


def function_url_prefix(template: Template, function_id: str) -> str:
    """URL path prefix a Function URL is served under locally: "/" if it is the only one, else "/<LogicalId>/"."""
    ids = function_url_ids(template)
    if function_id not in ids:
        raise TemplateError(f"{function_id!r} has no FunctionUrlConfig")
    return "/" if len(ids) == 1 else f"/{function_id}/"
