"""Issue 22 item 13: the WebSocket stage deploys route changes (AutoDeploy, no fixed Deployment resource)."""

from __future__ import annotations

from pathlib import Path

from local_runtime.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_the_websocket_stage_deploys_every_route_change() -> None:
    resources = load_template(TEMPLATE).resources
    stages = {k: r for k, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Stage"}
    assert stages, "no WebSocket stage"
    for name, stage in stages.items():
        assert stage["Properties"].get("AutoDeploy") is True, name
        assert "DeploymentId" not in stage["Properties"], name  # a fixed deployment would pin the first routes
    routes = {k for k, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert all(routes <= set(s.get("DependsOn", [])) for s in stages.values())  # the first deployment has them
    assert not [k for k, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Deployment"]
