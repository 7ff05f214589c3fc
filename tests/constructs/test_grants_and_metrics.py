"""What CDK users expect from a construct (issue #16, section 3): two of each in one stack, ``grant_*`` methods
that write least-privilege statements scoped to the construct's own resources, ``metric_*`` methods that match
what the handlers publish, and ``connections`` where a construct owns security groups.

One app holds every construct twice (one stack per architecture), the grants to a role of the app, and an alarm
on every metric, synthesized once with both nag packs: an unacknowledged finding fails the fixture."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk.assertions import Template

import blueprints
from blueprints.constructs import emr_reconciliation, mwaa_dr, vertical_scaling, weblogic_floating_ip
from blueprints.constructs.security_lake import parse_sources
from blueprints.example_app import add_nag_packs
from tests.conftest import cdk_context
from tests.handler_kit import LAMBDAS, LambdaContext, emf_records, load_handler

ACCOUNT = "111111111111"
CERTS = "s3://emr-tls-111111111111-us-east-1/reconciliation/certificates.zip"


@dataclass
class Built:
    app: cdk.App
    stacks: dict[str, cdk.Stack] = field(default_factory=dict)
    constructs: dict[str, list[Any]] = field(default_factory=dict)
    operators: dict[str, iam.Role] = field(default_factory=dict)
    metrics: dict[str, list[cloudwatch.Metric]] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)


def _stack(built: Built, name: str, region: str = "us-east-1", account: str = ACCOUNT) -> cdk.Stack:
    stack = blueprints.ExampleStack(built.app, name, env=cdk.Environment(account=account, region=region))
    built.stacks[name] = stack
    built.operators[name] = iam.Role(stack, "Operator", assumed_by=iam.AccountPrincipal(ACCOUNT))
    return stack


def _watch(built: Built, name: str, metrics: list[cloudwatch.Metric]) -> None:
    """An alarm on each metric, so the metric's namespace and dimensions reach the template."""
    stack = built.stacks[name]
    for index, metric in enumerate(metrics):
        cloudwatch.Alarm(stack, f"Watch{index}", metric=metric, threshold=1, evaluation_periods=1)
    built.metrics[name] = metrics


@pytest.fixture(scope="module")
def built() -> Built:
    built = Built(cdk.App(context=cdk_context()))

    stack = _stack(built, "Scaling")
    scalings = [
        blueprints.VerticalScaling(stack, "Restart", instance_sizes=["m7i.large", "m7i.xlarge"], target_tag_value="a"),
        blueprints.VerticalScaling(
            stack, "Replace", instance_sizes=["m7i.large", "m7i.xlarge"], target_tag_value="b", mode="replace"
        ),
    ]
    built.constructs["Scaling"] = scalings
    scalings[0].grant_start_resize(built.operators["Scaling"])
    _watch(built, "Scaling", [scalings[0].metric_resizes("failed"), scalings[1].metric_resize_duration()])

    stack = _stack(built, "Emr")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1, flow_logs={"All": ec2.FlowLogOptions()})
    emrs = [
        blueprints.EmrReconciliationCluster(
            stack, f"Recon{n}", vpc=vpc, in_transit_certificates=CERTS, cluster_name=f"recon-{n}"
        )
        for n in (1, 2)
    ]
    built.constructs["Emr"] = emrs
    emrs[0].grant_send_requests(built.operators["Emr"])
    emrs[0].grant_subscribe_results(built.operators["Emr"])
    clients = ec2.SecurityGroup(stack, "Clients", vpc=vpc)
    emrs[0].connections.allow_from(clients, ec2.Port.tcp(8998))
    _watch(built, "Emr", [emrs[0].metric_requests_rejected(), emrs[0].metric_requests_deferred()])

    stack = _stack(built, "WebLogic")
    weblogics = [
        blueprints.FloatingIpAdminServer(
            stack,
            f"Admin{n}",
            availability_zones=["us-east-1a", "us-east-1b"],
            vpc_cidr=f"10.{n}.0.0/16",
            floating_subnet_cidr=f"10.{n}.11.0/28",
        )
        for n in (1, 2)
    ]
    built.constructs["WebLogic"] = weblogics
    managed = ec2.SecurityGroup(stack, "Managed", vpc=weblogics[0].vpc)
    weblogics[0].connections.allow_default_port_from(managed)
    _watch(built, "WebLogic", [weblogics[0].metric_route_tables_updated(), weblogics[1].metric_launches_abandoned()])

    stack = _stack(built, "Api")
    zone = route53.HostedZone.from_hosted_zone_attributes(
        stack, "Zone", hosted_zone_id="Z0123456789EXAMPLE", zone_name="example.com"
    )
    apis = [
        blueprints.UnifiedApi(
            stack,
            f"Api{n}",
            domain_name=f"api{n}.example.com",
            hosted_zone=zone,
            availability_zones=["us-east-1a", "us-east-1b"],
        )
        for n in (1, 2)
    ]
    built.constructs["Api"] = apis
    monitors = ec2.SecurityGroup(stack, "Monitors", vpc=apis[0].vpc)
    apis[0].connections.allow_default_port_from(monitors)

    stack = _stack(built, "Airflow")
    primaries = [
        blueprints.MwaaDrPrimary(
            stack,
            f"Primary{n}",
            environment_name=f"orders-{n}",
            name_prefix=f"orders-{n}",
            dr_region="us-west-2",
            vpc=mwaa_dr_vpc(stack, n),
        )
        for n in (1, 2)
    ]
    built.constructs["Airflow"] = primaries
    _watch(
        built,
        "Airflow",
        [
            primaries[0].metric_backups_completed(),
            primaries[0].metric_backup_duration(),
            primaries[0].metric_scheduler_heartbeat(),
        ],
    )

    stack = _stack(built, "AirflowDr", region="us-west-2")
    secondaries = [
        blueprints.MwaaDrSecondary(
            stack,
            f"Dr{n}",
            strategy="active_passive",
            primary_environment_name=f"orders-{n}",
            name_prefix=f"orders-{n}",
            primary_region="us-east-1",
            vpc=mwaa_dr_vpc(stack, n),
        )
        for n in (1, 2)
    ]
    built.constructs["AirflowDr"] = secondaries
    secondaries[0].grant_start_failover(built.operators["AirflowDr"])
    secondaries[0].grant_start_failback(built.operators["AirflowDr"])
    _watch(built, "AirflowDr", [secondaries[0].metric_backup_age()])

    sources = parse_sources("CLOUD_TRAIL_MGMT,SH_FINDINGS")
    stack = _stack(built, "Lake")
    built.constructs["Lake"] = [
        blueprints.SecurityLakeSubscriber(
            stack, f"Subscriber{n}", subscriber_account="222222222222", subscriber_name=f"viz-{n}", sources=sources
        )
        for n in (1, 2)
    ]
    stack = _stack(built, "Viz", account="222222222222")
    built.operators["Viz"] = iam.Role(stack, "Analyst", assumed_by=iam.AccountPrincipal("222222222222"))
    vizs = [
        blueprints.SecurityLakeVisualization(
            stack,
            f"Viz{n}",
            lake_account=ACCOUNT,
            subscriber_name=f"viz-{n}",
            sources=sources,
            database_name=f"security_lake_{n}",
            workgroup_name=f"security-lake-{n}",
            quicksight_id_prefix=f"security-lake-{n}",
            quicksight_owner_arn="arn:aws:quicksight:us-east-1:222222222222:group/default/security-admins",
        )
        for n in (1, 2)
    ]
    built.constructs["Viz"] = vizs
    vizs[0].grant_query(built.operators["Viz"])

    add_nag_packs(built.app)
    built.app.synth()  # fails on an unacknowledged nag finding
    built.templates = {name: Template.from_stack(stack) for name, stack in built.stacks.items()}
    return built


def mwaa_dr_vpc(scope: cdk.Stack, n: int) -> ec2.Vpc:
    return ec2.Vpc(
        scope,
        f"Vpc{n}",
        ip_addresses=ec2.IpAddresses.cidr(f"10.{40 + n}.0.0/16"),
        max_azs=2,
        nat_gateways=1,
        flow_logs={"All": ec2.FlowLogOptions()},
    )


def _operator_statements(built: Built, stack_name: str, role: iam.Role | None = None) -> list[dict[str, Any]]:
    stack = built.stacks[stack_name]
    role = role or built.operators[stack_name]
    role_ref = {"Ref": stack.get_logical_id(role.node.default_child)}  # type: ignore[arg-type]
    policies = built.templates[stack_name].find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _pairs(statements: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """Each (action, resource, condition) a set of statements allows, however CDK merged them."""
    return {
        (action, json.dumps(resource, sort_keys=True), json.dumps(statement.get("Condition"), sort_keys=True))
        for statement in statements
        for action in _actions(statement)
        for resource in _resources(statement)
    }


def _ref(built: Built, stack_name: str, construct: Any) -> str:
    return built.stacks[stack_name].get_logical_id(construct.node.default_child)  # type: ignore[no-any-return]


def _no_wildcard_actions(statements: list[dict[str, Any]]) -> None:
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _actions(statement):
            assert "*" not in action, statement


# --- two of each ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack_name", "kind"),
    [
        ("Scaling", "AWS::StepFunctions::StateMachine"),
        ("Emr", "AWS::EMR::Cluster"),
        ("WebLogic", "AWS::AutoScaling::AutoScalingGroup"),
        ("Api", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
        ("Airflow", "AWS::MWAA::Environment"),
        ("AirflowDr", "AWS::StepFunctions::StateMachine"),
        ("Lake", "AWS::SecurityLake::Subscriber"),
        ("Viz", "AWS::Athena::WorkGroup"),
    ],
)
def test_two_of_each_construct_synthesize_in_one_stack_nag_clean(built: Built, stack_name: str, kind: str) -> None:
    first, second = built.constructs[stack_name]
    found = built.templates[stack_name].find_resources(kind)
    per_construct = len(found) // 2
    assert per_construct >= 1 and len(found) == 2 * per_construct
    assert first.node.path != second.node.path


# --- grants ---------------------------------------------------------------------------------------


def test_grant_start_resize_is_start_execution_on_that_state_machine_only(built: Built) -> None:
    statements = _operator_statements(built, "Scaling")
    first, second = built.constructs["Scaling"]
    machine = {"Ref": _ref(built, "Scaling", first.state_machine)}
    assert _pairs(statements) == {("states:StartExecution", json.dumps(machine), "null")}
    assert _ref(built, "Scaling", second.state_machine) != machine["Ref"]


def test_grant_send_requests_and_subscribe_results_are_scoped_to_one_cluster(built: Built) -> None:
    statements = _operator_statements(built, "Emr")
    _no_wildcard_actions(statements)
    service = built.constructs["Emr"][0]
    queue = {"Fn::GetAtt": [_ref(built, "Emr", service.queue), "Arn"]}
    key = {"Fn::GetAtt": [_ref(built, "Emr", service.encryption_key), "Arn"]}
    topic = {"Ref": _ref(built, "Emr", service.results_topic)}
    by_action = {tuple(sorted(_actions(s))): s for s in statements}
    assert by_action[("sqs:SendMessage",)]["Resource"] == queue
    kms = by_action[("kms:Decrypt", "kms:GenerateDataKey")]
    assert kms["Resource"] == key
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}}
    assert by_action[("sns:Subscribe",)]["Resource"] == topic
    assert len(statements) == 3


def test_grant_start_failover_and_failback_name_their_state_machines(built: Built) -> None:
    statements = _operator_statements(built, "AirflowDr")
    dr = built.constructs["AirflowDr"][0]
    machines = [{"Ref": _ref(built, "AirflowDr", m)} for m in (dr.failover_state_machine, dr.failback_state_machine)]
    assert _pairs(statements) == {("states:StartExecution", json.dumps(m), "null") for m in machines}


def test_grant_query_gives_the_workgroup_tables_results_and_lake_formation_grants(built: Built) -> None:
    statements = _operator_statements(built, "Viz")
    _no_wildcard_actions(statements)
    viz, other = built.constructs["Viz"]
    quicksight = _operator_statements(built, "Viz", viz.quicksight_role)
    assert _pairs(statements) == _pairs(quicksight), "the same statements as the construct's QuickSight role"
    text = json.dumps(statements)
    workgroup = {"Ref": built.stacks["Viz"].get_logical_id(viz.workgroup)}
    assert json.dumps(workgroup) in text
    assert json.dumps({"Ref": built.stacks["Viz"].get_logical_id(other.workgroup)}) not in text
    # Only resource-less actions are granted on "*".
    for statement in statements:
        if "*" in _resources(statement):
            assert set(_actions(statement)) <= {
                "lakeformation:GetDataAccess",
                "athena:ListDataCatalogs",
                "athena:ListWorkGroups",
            }
    analyst = {"Fn::GetAtt": [built.stacks["Viz"].get_logical_id(built.operators["Viz"].node.default_child), "Arn"]}
    permissions = built.templates["Viz"].find_resources(
        "AWS::LakeFormation::PrincipalPermissions",
        {"Properties": {"Principal": {"DataLakePrincipalIdentifier": analyst}}},
    )
    granted = {
        (json.dumps(p["Properties"]["Resource"], sort_keys=True), tuple(p["Properties"]["Permissions"]))
        for p in permissions.values()
    }
    assert any("SELECT" in perms for _, perms in granted)
    assert all(viz.database_name in res or "default" in res or ACCOUNT in res for res, _ in granted)
    assert not any(other.database_name in res for res, _ in granted)


def test_grant_query_refuses_a_principal_without_an_arn() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Viz", env=cdk.Environment(account="222222222222", region="us-east-1"))
    viz = blueprints.SecurityLakeVisualization(
        stack,
        "Viz",
        lake_account=ACCOUNT,
        analyst_principal_arns=["arn:aws:iam::222222222222:role/Analyst"],
        enable_quicksight=False,
    )
    with pytest.raises(ValueError, match="grant_query needs an IAM role or user"):
        viz.grant_query(iam.ServicePrincipal("lambda.amazonaws.com"))


# --- connections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack_name", "group", "peer", "port"),
    [
        ("Emr", "primary_security_group", "Clients", 8998),
        ("WebLogic", "security_group", "Managed", 7001),
        ("Api", "load_balancer_security_group", "Monitors", 443),
    ],
)
def test_connections_open_the_constructs_own_security_group(
    built: Built, stack_name: str, group: str, peer: str, port: int
) -> None:
    stack = built.stacks[stack_name]
    construct = built.constructs[stack_name][0]
    assert isinstance(construct.connections, ec2.Connections)
    group_id = stack.get_logical_id(getattr(construct, group).node.default_child)
    peer_id = stack.get_logical_id(stack.node.find_child(peer).node.default_child)
    ingress = [
        r["Properties"]
        for r in built.templates[stack_name].find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("SourceSecurityGroupId") == {"Fn::GetAtt": [peer_id, "GroupId"]}
    ]
    inline = [
        rule
        for r in built.templates[stack_name].find_resources("AWS::EC2::SecurityGroup").values()
        for rule in r["Properties"].get("SecurityGroupIngress", [])
        if rule.get("SourceSecurityGroupId") == {"Fn::GetAtt": [peer_id, "GroupId"]}
    ]
    (rule,) = ingress or inline
    assert (rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) == (port, port, "tcp")
    if ingress:
        assert rule["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}


# --- metrics: the same namespace, names and dimensions the handlers publish -------------------------


def _published(handler: str) -> tuple[set[str], set[str]]:
    """The metric names and extra dimension names ``blueprints/lambdas/<handler>`` publishes (its source)."""
    names: set[str] = set()
    dimensions: set[str] = set()
    for path in (LAMBDAS / handler).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                keywords = {k.arg: k.value for k in node.keywords}
                name = keywords.get("name")
                if isinstance(name, ast.Constant) and node.func.attr == "add_metric":
                    names.add(name.value)
                if isinstance(name, ast.Constant) and node.func.attr == "add_dimension":
                    dimensions.add(name.value)
    return names, dimensions


def _function_environment(built: Built, stack_name: str, function: Any) -> dict[str, Any]:
    logical_id = built.stacks[stack_name].get_logical_id(function.node.default_child)
    resource = built.templates[stack_name].to_json()["Resources"][logical_id]
    return resource["Properties"]["Environment"]["Variables"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("stack_name", "index", "handler", "function"),
    [
        ("Scaling", 0, "vertical_scaling_report", lambda c: c.report_handler.function),
        ("Scaling", 1, "vertical_scaling_report", lambda c: c.report_handler.function),
        ("Emr", 0, "emr_reconciliation_submitter", lambda c: c.submitter.function),
        ("Emr", 1, "emr_reconciliation_submitter", lambda c: c.submitter.function),
        ("WebLogic", 0, "weblogic_floating_ip_route_mover", lambda c: c.route_mover_function),
        ("WebLogic", 1, "weblogic_floating_ip_route_mover", lambda c: c.route_mover_function),
        ("Airflow", 0, "mwaa_dr_metadata", lambda c: c.backup_function.function),
        ("Airflow", 1, "mwaa_dr_metadata", lambda c: c.backup_function.function),
        ("AirflowDr", 0, "mwaa_dr_health", lambda c: c.health_function.function),
    ],
)
def test_each_powertools_metric_matches_what_its_function_publishes(
    built: Built, stack_name: str, index: int, handler: str, function: Any
) -> None:
    """Namespace and ``service`` from the function's environment in the template, the metric name and the other
    dimensions from the handler's own ``add_metric``/``add_dimension`` calls."""
    construct = built.constructs[stack_name][0]
    environment = _function_environment(built, stack_name, function(construct))
    names, dimensions = _published(handler)
    metrics = [m for m in built.metrics[stack_name] if m.namespace == "Blueprints"]
    assert metrics
    for metric in metrics:
        assert metric.namespace == environment["POWERTOOLS_METRICS_NAMESPACE"]
        assert metric.metric_name in names
        assert metric.dimensions["service"] == environment["POWERTOOLS_SERVICE_NAME"]
        assert set(metric.dimensions) == {"service", *dimensions}


def test_vertical_scaling_metrics_match_the_report_handlers_emf(
    built: Built, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report handler, run with the environment the template gives it, prints the EMF that CloudWatch turns
    into the very metric ``metric_resizes`` names."""
    from moto import mock_aws

    scaling = built.constructs["Scaling"][1]
    environment = _function_environment(built, "Scaling", scaling.report_handler.function)
    for key, value in environment.items():
        monkeypatch.setenv(key, value if isinstance(value, str) else "resolved-at-deploy")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        import boto3

        bus = boto3.client("events").create_event_bus(Name="resizes")["EventBusArn"]
        topic = boto3.client("sns").create_topic(Name="resize-failures")["TopicArn"]
        monkeypatch.setenv("EVENT_BUS_NAME", bus)
        monkeypatch.setenv("TOPIC_ARN", topic)
        report = load_handler("vertical_scaling_report")
        state = {"instance_id": "i-1", "execution": "e", "direction": "up", "outcome": "failed", "started_at": 1}
        capsys.readouterr()
        report.handler({"state": state}, LambdaContext())
    (emf,) = emf_records(capsys.readouterr().out)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    for metric in (scaling.metric_resizes("failed"), scaling.metric_resize_duration("failed")):
        assert directive["Namespace"] == metric.namespace
        assert metric.metric_name in [m["Name"] for m in directive["Metrics"]]
        (dimension_set,) = directive["Dimensions"]
        assert set(dimension_set) == set(metric.dimensions)
        assert {k: emf[k] for k in dimension_set} == metric.dimensions


def test_metric_arguments_are_checked() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "S", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    scaling = blueprints.VerticalScaling(stack, "S", instance_sizes=["m7i.large", "m7i.xlarge"], target_tag_value="a")
    with pytest.raises(ValueError, match="outcome must be one of resized, noop"):
        scaling.metric_resizes("ok")
    assert set(vertical_scaling.OUTCOMES) == set(load_handler("vertical_scaling_report").OUTCOMES)
    assert set(emr_reconciliation.REQUEST_METRICS.values()) == _published("emr_reconciliation_submitter")[0]
    assert set(weblogic_floating_ip.ROUTE_MOVER_METRICS) == _published("weblogic_floating_ip_route_mover")[0]
    assert mwaa_dr.BACKUP_SERVICE == "mwaa-dr-backup"


def test_backup_age_metric_matches_the_health_checks_emf(
    built: Built, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The health check, run with the environment the template gives it, prints the EMF of ``BackupAgeSeconds``
    that CloudWatch turns into the very metric ``metric_backup_age`` (and so the backup-age alarm) names."""
    from datetime import UTC, datetime, timedelta

    from tests.handler_kit import stubbed

    dr = built.constructs["AirflowDr"][0]
    environment = _function_environment(built, "AirflowDr", dr.health_function.function)
    for key, value in environment.items():
        monkeypatch.setenv(key, value if isinstance(value, str) else "resolved-at-deploy")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    health = load_handler("mwaa_dr_health")
    import boto3

    s3 = boto3.client("s3", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    health._clients[("s3", "us-west-2")] = s3
    now = datetime.now(UTC)
    capsys.readouterr()
    with stubbed(s3) as stub:
        stub.add_response("head_object", {"LastModified": now - timedelta(minutes=7)})
        assert health.publish_backup_age(now) == 420.0
    (emf,) = emf_records(capsys.readouterr().out)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    metric = dr.metric_backup_age()
    assert directive["Namespace"] == metric.namespace
    assert [m["Name"] for m in directive["Metrics"]] == [metric.metric_name]
    (dimension_set,) = directive["Dimensions"]
    assert (
        {k: emf[k] for k in dimension_set}
        == metric.dimensions
        == {
            "service": "mwaa-dr-health",
            "Environment": environment["PRIMARY_ENVIRONMENT_NAME"],
        }
    )
    assert emf["BackupAgeSeconds"] == [420.0]
    heartbeat = dr.metric_primary_heartbeat()
    assert (heartbeat.namespace, heartbeat.metric_name, heartbeat.region) == (
        "AmazonMWAA",
        "SchedulerHeartbeat",
        "us-east-1",
    )


def test_route_mover_metrics_match_the_emf_of_a_rejected_event(
    built: Built, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route mover, with the template's environment, rejects a malformed event and prints the EMF of
    ``MalformedEvents``: the namespace and dimensions ``metric_route_mover`` names."""
    from tests.handler_kit import load_event

    admin = built.constructs["WebLogic"][0]
    environment = _function_environment(built, "WebLogic", admin.route_mover_function)
    for key, value in environment.items():
        monkeypatch.setenv(key, value if isinstance(value, str) else "rtb-0123456789abcdef0")
    mover = load_handler("weblogic_floating_ip_route_mover")
    capsys.readouterr()
    with pytest.raises(ValueError, match="LifecycleActionToken is missing"):
        mover.handler(load_event("weblogic_floating_ip_malformed"), LambdaContext())
    (emf,) = emf_records(capsys.readouterr().out)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    metric = admin.metric_route_mover("MalformedEvents")
    assert directive["Namespace"] == metric.namespace
    assert [m["Name"] for m in directive["Metrics"]] == [metric.metric_name]
    (dimension_set,) = directive["Dimensions"]
    assert {k: emf[k] for k in dimension_set} == metric.dimensions
