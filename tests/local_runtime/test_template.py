"""Template model, intrinsics, resources and the pure helpers: no servers, no subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import jwt
import pytest
from moto import mock_aws

from local_runtime.apigw_config import Route, _segments, split_path
from local_runtime.authorizer import policy_effect
from local_runtime.cli import main as cli_main
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.resources import create_resources
from local_runtime.schedules import period_of
from local_runtime.template import TemplateError, load_template, parse_yaml

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"


def test_short_form_tags_become_long_form() -> None:
    doc = parse_yaml(
        "a: !Ref X\nb: !GetAtt T.Arn\nc: !Sub 'x-${Y}'\nd: !If [C, 1, 2]\n"
        "e: !Join [',', [!Ref A, b]]\nf: !Select [0, !GetAZs '']\ng: !Not [!Equals [a, b]]\n"
    )
    assert doc == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["T", "Arn"]},
        "c": {"Fn::Sub": "x-${Y}"},
        "d": {"Fn::If": ["C", 1, 2]},
        "e": {"Fn::Join": [",", [{"Ref": "A"}, "b"]]},
        "f": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "g": {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
    }


def test_parameters_defaults_and_overrides() -> None:
    template = load_template(FIXTURE, {"Stage": "prod"})
    assert template.parameters["Greeting"] == "hello"
    assert template.parameters["Stage"] == "prod"
    with pytest.raises(TemplateError, match="Nope"):
        load_template(FIXTURE, {"Nope": "x"})


def test_globals_are_merged_into_functions() -> None:
    props = load_template(FIXTURE).function_properties("EchoFunction")
    variables = props["Environment"]["Variables"]
    assert variables["FUNCTION_ONLY"] == "echo-only"  # the function's own
    assert variables["GREETING"] == "overridden-by-function"  # the function wins over Globals
    assert variables["TABLE_NAME"] == {"Ref": "ItemsTable"}  # from Globals
    assert props["Timeout"] == 10 and props["Runtime"] == "python3.13"
    assert props["Layers"] == [{"Ref": "SharedLayer"}]


def test_intrinsics() -> None:
    template = load_template(FIXTURE, {"Stage": "prod", "WebhookBaseUrl": ""})
    resolver = Resolver(
        template, StackContext(region="eu-west-1", sqs_base_url="http://127.0.0.1:1", webhook_url="http://127.0.0.1:2/")
    )
    resolve = resolver.resolve
    assert resolve({"Ref": "ItemsTable"}) == "avito-service-local-items"
    assert resolve({"Ref": "WorkQueue"}) == "http://127.0.0.1:1/123456789012/WorkQueue"
    assert resolve({"Fn::GetAtt": ["WorkDlq", "Arn"]}) == "arn:aws:sqs:eu-west-1:123456789012:WorkDlq"
    assert resolve({"Fn::GetAtt": ["ItemsTable", "Arn"]}).endswith(":table/avito-service-local-items")
    assert resolve({"Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]}) == "http://127.0.0.1:2/"
    assert resolve({"Fn::Sub": "${AWS::Region}/${Greeting}/${WorkDlq.Arn}/${!Literal}"}) == (
        "eu-west-1/hello/arn:aws:sqs:eu-west-1:123456789012:WorkDlq/${Literal}"
    )
    assert resolve({"Fn::Sub": ["${A}-${AWS::AccountId}", {"A": {"Ref": "Stage"}}]}) == "prod-123456789012"
    alias = "arn:aws:lambda:eu-west-1:123456789012:function:AuthorizerFunction:live"
    assert resolve({"Ref": "AuthorizerFunction.Alias"}) == alias  # SAM's AutoPublishAlias references
    assert resolve({"Fn::Sub": "x/${AuthorizerFunction.Alias}/y"}) == f"x/{alias}/y"
    with pytest.raises(TemplateError, match="needs AutoPublishAlias"):
        resolve({"Ref": "EchoFunction.Alias"})
    assert resolve({"Fn::If": ["IsProd", "p", "d"]}) == "p"
    assert resolve({"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "UseOwnUrl"}]}]}) is False
    assert resolve({"Fn::Or": [{"Condition": "IsProd"}, False]}) is True
    assert resolve({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]}) == {"b": [1]}
    with pytest.raises(TemplateError, match="EchoFunction"):
        resolve({"Ref": "JwtSecret"}, "EchoFunction")  # only known once created
    with pytest.raises(TemplateError, match="Missing"):
        resolve({"Fn::GetAtt": ["Missing", "Arn"]})
    with pytest.raises(TemplateError, match="ImportValue"):
        resolve({"Fn::ImportValue": "x"})


def test_create_resources_under_mock_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = load_template(FIXTURE)
    with mock_aws():
        created = create_resources(template)
        table = boto3.client("dynamodb").describe_table(TableName=created["ItemsTable"])["Table"]
        assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["byKind"]
        ttl = boto3.client("dynamodb").describe_time_to_live(TableName=created["ItemsTable"])
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"
        attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=created["WorkQueue"], AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(":WorkDlq") and int(redrive["maxReceiveCount"]) == 1
        assert attributes["VisibilityTimeout"] == "1"
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=created["JwtSecret"])["SecretString"]
        assert len(secret) == 40 and secret.isalnum()


def test_route_specificity() -> None:
    def route(path: str) -> Route:
        return Route("Api", path, "GET", "Fn", None, _segments(path))

    literal, param, greedy = route("/items/special"), route("/items/{id}"), route("/{proxy+}")
    parts = split_path("/items/special")
    matching = [r for r in (greedy, param, literal) if r.match(parts) is not None]
    assert min(matching, key=lambda r: r.specificity) is literal
    assert param.match(split_path("/items/7")) == {"id": "7"}
    assert greedy.match(split_path("/a/b/c")) == {"proxy": "a/b/c"}
    assert greedy.match([]) is None and param.match(split_path("/items/7/x")) is None


def test_policy_evaluation() -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:api/local/GET/items/1"

    def policy(*statements: tuple[str, str]) -> dict:
        return {"Statement": [{"Action": "execute-api:Invoke", "Effect": e, "Resource": r} for e, r in statements]}

    assert policy_effect(policy(("Allow", "arn:aws:execute-api:*:*:api/local/*")), arn) == "Allow"
    assert policy_effect(policy(("Allow", "arn:aws:execute-api:*:*:api/local/POST/*")), arn) is None
    assert policy_effect(policy(("Allow", "*"), ("Deny", "*/GET/items/?")), arn) == "Deny"


def test_schedule_periods() -> None:
    assert period_of("rate(5 minutes)") == 300
    assert period_of("rate(1 hour)") == 3600
    assert period_of("cron(0 12 * * ? *)") == 60
    with pytest.raises(TemplateError):
        period_of("every day")


def test_cli_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("JWT_SECRET", "k" * 32)
    assert cli_main(["token", "--role", "operator", "--sub", "bob", "--ttl", "60"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), "k" * 32, algorithms=["HS256"])
    assert claims["role"] == "operator" and claims["sub"] == "bob" and claims["exp"] - claims["iat"] == 60


def test_binary_media_types_are_read_like_api_gateway_does() -> None:
    """SAM's ``~1`` escape, parameters ignored, ``type/*`` and ``*/*`` wildcards (template.yaml's ServiceApi)."""
    from local_runtime.apigw_config import IMPLICIT_API_ID, load_api_configs

    template = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
    resolver = Resolver(template, StackContext(stack_name="t", region="us-east-1", account_id="123456789012"))
    authorizer_arn = str(resolver.resolve({"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}, "test"))
    api = load_api_configs(resolver, {authorizer_arn: "AuthorizerFunction"})
    service_api = next(config for name, config in api.items() if name != IMPLICIT_API_ID)
    assert service_api.binary_media_types == ("multipart/form-data", "audio/mpeg")
    assert service_api.is_binary("audio/mpeg")
    assert service_api.is_binary("multipart/form-data; boundary=xyz")
    assert service_api.is_binary("Multipart/Form-Data")
    assert not service_api.is_binary("application/json") and not service_api.is_binary(None)
    wildcard = type(service_api)("x", "x", binary_media_types=("image/*",))
    assert wildcard.is_binary("image/png") and not wildcard.is_binary("text/plain")
    assert type(service_api)("x", "x", binary_media_types=("*/*",)).is_binary("text/plain")


def test_cron_schedules_fire_at_their_next_time_in_their_time_zone() -> None:
    from datetime import UTC, datetime

    from local_runtime.schedules import Schedule, next_cron_time

    at = datetime(2026, 12, 2, 1, 44, tzinfo=UTC)  # a Wednesday; 04:44 in Moscow (UTC+3)
    assert next_cron_time("cron(0 4 * * ? *)", "Europe/Moscow", at) == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert next_cron_time("cron(0 4 * * ? *)", "UTC", at) == datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    weekdays = "cron(0/15 9-17 ? * MON-FRI *)"
    assert next_cron_time(weekdays, "UTC", datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 9, 0, tzinfo=UTC
    )  # Saturday -> Monday 09:00
    assert next_cron_time("cron(30 2 1 JAN ? *)", "UTC", at) == datetime(2027, 1, 1, 2, 30, tzinfo=UTC)
    daily = Schedule("F", "Daily", "cron(0 4 * * ? *)", 60.0, "rule", timezone="Europe/Moscow")
    assert daily.seconds_until_next(at) == (23 * 60 + 16) * 60
    assert Schedule("F", "Daily", "cron(0 4 * * ? *)", 2.0, "rule", overridden=True).seconds_until_next(at) == 2.0
    with pytest.raises(TemplateError):
        next_cron_time("cron(0 4 L * ? *)")


FOR_EACH = """
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Parameters:
  Names: {Type: CommaDelimitedList, Default: "a.b,c"}
Resources:
  Fn::ForEach::Outer:
    - Name
    - [Health, Docs]
    - ${Name}LogGroup:
        Type: AWS::Logs::LogGroup
        Properties:
          LogGroupName: !Join ["", [/aws/lambda/, {Ref: !Sub "${Name}Function"}]]
          Tags: [{Key: name, Value: !Ref Name}, {Key: sub, Value: !Sub "${AWS::StackName}-${Name}"}]
      Fn::ForEach::Inner:
        - Metric
        - [Errors, Throttles]
        - ${Name}${Metric}Alarm:
            Type: AWS::CloudWatch::Alarm
            Properties:
              MetricName: !Ref Metric
              Dimensions: [{Name: FunctionName, Value: {Ref: !Sub "${Name}Function"}}]
  Fn::ForEach::FromParameter:
    - Item
    - !Ref Names
    - Queue&{Item}:
        Type: AWS::SQS::Queue
        Properties: {QueueName: !Sub "${Item}"}
"""


def test_for_each_loops_expand_as_the_language_extensions_transform_does(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(FOR_EACH, encoding="utf-8")
    template = load_template(path)
    resources = template.resources
    assert template.document["Transform"] == "AWS::Serverless-2016-10-31"
    assert sorted(resources) == [
        "DocsErrorsAlarm", "DocsLogGroup", "DocsThrottlesAlarm", "HealthErrorsAlarm", "HealthLogGroup",
        "HealthThrottlesAlarm", "Queueab", "Queuec",
    ]  # fmt: skip
    health = resources["HealthLogGroup"]["Properties"]
    assert health["LogGroupName"] == {"Fn::Join": ["", ["/aws/lambda/", {"Ref": "HealthFunction"}]]}
    assert health["Tags"] == [
        {"Key": "name", "Value": "Health"},
        {"Key": "sub", "Value": {"Fn::Sub": "${AWS::StackName}-Health"}},
    ]
    assert resources["DocsThrottlesAlarm"]["Properties"] == {
        "MetricName": "Throttles",
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "DocsFunction"}}],
    }
    assert resources["Queueab"]["Properties"] == {"QueueName": {"Fn::Sub": "a.b"}}


def test_a_resource_also_made_by_a_loop_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(FOR_EACH + "  HealthLogGroup: {Type: AWS::Logs::LogGroup}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="HealthLogGroup"):
        load_template(path)
