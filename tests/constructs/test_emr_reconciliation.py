"""EmrReconciliationCluster: the example stack synthesized once with both nag packs, then each argument's checks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from blueprints.constructs.common import LAMBDAS_DIR
from blueprints.constructs.emr_reconciliation import (
    CONTRACT,
    CONTRACT_MODULE,
    EMR_MANAGED_TAG,
    JOB_PYTHON,
    JOB_PYTHON_VERSION,
    JOB_SCRIPT,
    RELEASE_LABEL,
    RELEASE_SPARK_VERSION,
    SUBMITTER,
    EmrReconciliationCluster,
    FleetInstanceType,
    deferral_seconds,
)
from blueprints.stacks.emr_reconciliation import EXAMPLE_STACKS, EmrReconciliationStack
from tests.conftest import cdk_context
from tests.handler_kit import load_event, load_handler
from tests.stack_kit import synth_example

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
CERTS = "s3://tls-bucket/emr/certs.zip"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emr_reconciliation.out")


@pytest.fixture(scope="module")
def template(outdir: Path) -> Template:
    templates = synth_example("blueprints.stacks.emr_reconciliation", outdir=outdir)
    assert sorted(templates) == sorted(EXAMPLE_STACKS)
    return templates["EmrReconciliation"]


def _resource(template: Template, type_: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = template.find_resources(type_).items()
    return logical_id, resource


def _statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::Policy")
    statements: list[dict[str, Any]] = []
    for policy in policies.values():
        roles = policy["Properties"]["Roles"]
        if any(r["Ref"].startswith(role_prefix) for r in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    assert statements, f"no policy for {role_prefix}"
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


# --- the cluster, as the post configures it ------------------------------------------------------------------------


def test_cluster_is_long_running_spark_on_emr7_with_ten_concurrent_steps(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EMR::Cluster",
        {
            "ReleaseLabel": RELEASE_LABEL,
            "Applications": [{"Name": "Spark"}],
            "StepConcurrencyLevel": 10,
            "VisibleToAllUsers": True,
            "Instances": Match.object_like({"KeepJobFlowAliveWhenNoSteps": True, "TerminationProtected": True}),
            "LogUri": {"Fn::Join": ["", ["s3://", {"Ref": Match.string_like_regexp("Control")}, "/logs/"]]},
            "LogEncryptionKmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
            "SecurityConfiguration": {"Ref": Match.string_like_regexp("SecurityConfiguration")},
            "JobFlowRole": {"Ref": Match.string_like_regexp("InstanceProfile")},
            "ServiceRole": {"Fn::GetAtt": [Match.string_like_regexp("ServiceRole"), "Arn"]},
            "Tags": [{"Key": EMR_MANAGED_TAG, "Value": "true"}],
        },
    )
    assert RELEASE_LABEL.startswith("emr-7.")


def test_managed_scaling_uses_the_posts_instance_fleet_limits(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EMR::Cluster",
        {
            "ManagedScalingPolicy": {
                "ComputeLimits": {
                    "UnitType": "InstanceFleetUnits",
                    "MinimumCapacityUnits": 64,
                    "MaximumCapacityUnits": 512,
                    "MaximumOnDemandCapacityUnits": 512,
                    "MaximumCoreCapacityUnits": 512,
                }
            }
        },
    )


def _types(fleet: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    return [
        (
            c["InstanceType"],
            c["WeightedCapacity"],
            c["EbsConfiguration"]["EbsBlockDeviceConfigs"][0]["VolumeSpecification"]["SizeInGB"],
            c["BidPriceAsPercentageOfOnDemandPrice"],
        )
        for c in fleet["InstanceTypeConfigs"]
    ]


def test_instance_fleets_are_the_posts_graviton_types_with_their_weights_and_volumes(template: Template) -> None:
    _, cluster = _resource(template, "AWS::EMR::Cluster")
    instances = cluster["Properties"]["Instances"]
    assert _types(instances["MasterInstanceFleet"]) == [("r6g.xlarge", 1, 250, 100), ("r6g.2xlarge", 1, 250, 100)]
    assert instances["MasterInstanceFleet"]["TargetOnDemandCapacity"] == 1
    assert "TargetSpotCapacity" not in instances["MasterInstanceFleet"]
    assert instances["MasterInstanceFleet"]["LaunchSpecifications"] == {
        "OnDemandSpecification": {"AllocationStrategy": "lowest-price"}
    }
    workers = [("r6g.2xlarge", 8, 100, 100), ("r6g.4xlarge", 16, 100, 100)]
    assert _types(instances["CoreInstanceFleet"]) == workers
    (task,) = instances["TaskInstanceFleets"]
    assert _types(task) == workers
    # Launch capacity equals the scaling minimum: 56 core + 8 task units.
    assert instances["CoreInstanceFleet"]["TargetOnDemandCapacity"] + task["TargetOnDemandCapacity"] == 64
    volume = instances["CoreInstanceFleet"]["InstanceTypeConfigs"][0]["EbsConfiguration"]["EbsBlockDeviceConfigs"][0]
    assert volume["VolumeSpecification"]["VolumeType"] == "gp3"
    assert task["LaunchSpecifications"]["SpotSpecification"] == {
        "AllocationStrategy": "price-capacity-optimized",
        "TimeoutAction": "SWITCH_TO_ON_DEMAND",
        "TimeoutDurationMinutes": 20,
    }


def test_cluster_runs_in_the_private_subnets_with_emr_managed_and_service_access_groups(template: Template) -> None:
    _, cluster = _resource(template, "AWS::EMR::Cluster")
    instances = cluster["Properties"]["Instances"]
    subnet_ids = {ref["Ref"] for ref in instances["Ec2SubnetIds"]}
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert len(subnet_ids) == 2
    for subnet_id in subnet_ids:
        assert subnets[subnet_id]["Properties"]["MapPublicIpOnLaunch"] is False
        assert {"Key": EMR_MANAGED_TAG, "Value": "true"} in subnets[subnet_id]["Properties"]["Tags"]
    groups = {
        key: instances[key]["Fn::GetAtt"][0]
        for key in ("EmrManagedMasterSecurityGroup", "EmrManagedSlaveSecurityGroup", "ServiceAccessSecurityGroup")
    }
    assert len(set(groups.values())) == 3
    all_groups = template.find_resources("AWS::EC2::SecurityGroup")
    for group in groups.values():
        assert {"Key": EMR_MANAGED_TAG, "Value": "true"} in all_groups[group]["Properties"]["Tags"]
        for rule in all_groups[group]["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0"
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": [groups["ServiceAccessSecurityGroup"], "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [groups["EmrManagedMasterSecurityGroup"], "GroupId"]},
            "FromPort": 9443,
            "ToPort": 9443,
        },
    )
    egress = template.find_resources(
        "AWS::EC2::SecurityGroupEgress",
        {"Properties": {"GroupId": {"Fn::GetAtt": [groups["ServiceAccessSecurityGroup"], "GroupId"]}}},
    )
    assert {e["Properties"]["FromPort"] for e in egress.values()} == {8443}
    assert {e["Properties"]["DestinationSecurityGroupId"]["Fn::GetAtt"][0] for e in egress.values()} == {
        groups["EmrManagedMasterSecurityGroup"],
        groups["EmrManagedSlaveSecurityGroup"],
    }


def test_cluster_is_created_after_its_subnets_default_routes_and_the_s3_endpoint(template: Template) -> None:
    _, cluster = _resource(template, "AWS::EMR::Cluster")
    subnet_ids = {ref["Ref"] for ref in cluster["Properties"]["Instances"]["Ec2SubnetIds"]}
    associations = template.find_resources("AWS::EC2::SubnetRouteTableAssociation").values()
    route_tables = {
        a["Properties"]["RouteTableId"]["Ref"] for a in associations if a["Properties"]["SubnetId"]["Ref"] in subnet_ids
    }
    default_routes = {
        logical_id
        for logical_id, route in template.find_resources(
            "AWS::EC2::Route", {"Properties": {"DestinationCidrBlock": "0.0.0.0/0"}}
        ).items()
        if route["Properties"]["RouteTableId"]["Ref"] in route_tables
    }
    assert len(route_tables) == 2 and len(default_routes) == 2
    for logical_id in default_routes:
        assert "NatGatewayId" in template.to_json()["Resources"][logical_id]["Properties"]
    (endpoint,) = template.find_resources("AWS::EC2::VPCEndpoint")
    assert default_routes | {endpoint} <= set(cluster["DependsOn"])


def test_security_configuration_encrypts_at_rest_with_kms_and_in_transit_with_tls(template: Template) -> None:
    key = {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]}
    template.has_resource_properties(
        "AWS::EMR::SecurityConfiguration",
        {
            "SecurityConfiguration": {
                "EncryptionConfiguration": {
                    "EnableAtRestEncryption": True,
                    "EnableInTransitEncryption": True,
                    "AtRestEncryptionConfiguration": {
                        "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": key},
                        "LocalDiskEncryptionConfiguration": {
                            "EncryptionKeyProviderType": "AwsKms",
                            "AwsKmsKey": key,
                            "EnableEbsEncryption": True,
                        },
                    },
                    "InTransitEncryptionConfiguration": {
                        "TLSCertificateConfiguration": {
                            "CertificateProviderType": "PEM",
                            "S3Object": "s3://emr-tls-111111111111-us-east-1/reconciliation/certificates.zip",
                        }
                    },
                }
            }
        },
    )


# --- least privilege -------------------------------------------------------------------------------------------------


def test_service_role_has_only_the_scoped_emr_policy_and_passes_only_the_instance_role(template: Template) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "elasticmapreduce.amazonaws.com"},
                            "Condition": Match.object_like({"StringEquals": {"aws:SourceAccount": "111111111111"}}),
                        }
                    )
                ]
            },
            "ManagedPolicyArns": [
                {
                    "Fn::Join": [
                        "",
                        ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"],
                    ]
                }
            ],
        },
    )
    statements = _statements(template, "ReconciliationServiceRole")
    (pass_role,) = [s for s in statements if "iam:PassRole" in _actions(s)]
    assert pass_role["Resource"]["Fn::GetAtt"][0].startswith("ReconciliationInstanceRole")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    (grants,) = [s for s in statements if "kms:CreateGrant" in _actions(s)]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_no_role_of_the_construct_has_a_wildcard_action(template: Template) -> None:
    for prefix in ("ReconciliationServiceRole", "ReconciliationInstanceRole", "ReconciliationSubmitterRole"):
        for statement in _statements(template, prefix):
            for action in _actions(statement):
                assert "*" not in action, f"{prefix}: {action}"


def test_instance_role_reaches_only_the_construct_buckets_the_job_and_the_certificates(template: Template) -> None:
    statements = {s["Sid"]: s for s in _statements(template, "ReconciliationInstanceRole")}
    assert set(statements) == {
        "ReadRequests",
        "WriteLogs",
        "ReadJob",
        "ReadEmrArtifacts",
        "ListData",
        "ReadWriteData",
        "UseKeys",
        "WriteResults",
        "ListResults",
    }
    assert statements["ReadRequests"]["Resource"]["Fn::Join"][1][1] == "/requests/*"
    assert statements["WriteLogs"]["Resource"]["Fn::Join"][1][1] == "/logs/*"
    job = sorted(statements["ReadJob"]["Resource"], key=lambda arn: arn.rsplit(".", 1)[-1])
    assert [arn.rsplit(".", 1)[-1] for arn in job] == ["py", "zip", "zip"]
    assert len([arn for arn in job if arn.startswith("arn:aws:s3:::cdk-")]) == 2  # the two CDK assets, no more
    assert "arn:aws:s3:::emr-tls-111111111111-us-east-1/reconciliation/certificates.zip" in job
    assert statements["ReadEmrArtifacts"]["Resource"] == "arn:aws:s3:::us-east-1.elasticmapreduce/*"
    assert statements["ReadWriteData"]["Resource"]["Fn::Join"][1][0]["Fn::GetAtt"][0].startswith("ReconciliationData")


def _submitter_function(template: Template) -> dict[str, Any]:
    return next(
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "PY_FILES_URI" in f["Properties"].get("Environment", {}).get("Variables", {})
    )


def test_job_ships_as_the_script_and_a_zip_holding_only_the_contract_module(template: Template, outdir: Path) -> None:
    env = _submitter_function(template)["Properties"]["Environment"]["Variables"]
    modules_hash = env["PY_FILES_URI"].rsplit("/", 1)[-1].removesuffix(".zip")
    script_hash = env["JOB_SCRIPT_URI"].rsplit("/", 1)[-1].removesuffix(".py")
    modules = outdir / f"asset.{modules_hash}"
    assert sorted(p.name for p in modules.iterdir()) == [CONTRACT_MODULE]
    assert (modules / CONTRACT_MODULE).read_bytes() == CONTRACT.read_bytes()
    assert (outdir / f"asset.{script_hash}.py").read_bytes() == JOB_SCRIPT.read_bytes()  # staged as a single file


def test_the_submitters_package_holds_the_contract_it_imports(template: Template, outdir: Path) -> None:
    """The package is the handler folder and the same contract module as the job's, and imports on its own."""
    key = _submitter_function(template)["Properties"]["Code"]["S3Key"]
    package = outdir / f"asset.{key.removesuffix('.zip')}"
    assert sorted(p.name for p in package.iterdir()) == [CONTRACT_MODULE, "index.py"]
    assert (package / CONTRACT_MODULE).read_bytes() == CONTRACT.read_bytes()
    assert (package / "index.py").read_bytes() == (LAMBDAS_DIR / SUBMITTER / "index.py").read_bytes()
    probe = "import index, emr_reconciliation_request as c; print(c.__file__, index.InvalidRequest is c.InvalidRequest)"
    environment = {"AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "1", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=package, env=environment, capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == [str(package / CONTRACT_MODULE), "True"]


def test_submitter_may_add_and_list_steps_on_its_cluster_only(template: Template) -> None:
    statements = {s.get("Sid"): s for s in _statements(template, "ReconciliationSubmitterRole")}
    steps = statements["AddSteps"]
    assert sorted(_actions(steps)) == ["elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:ListSteps"]
    cluster_id, _ = _resource(template, "AWS::EMR::Cluster")
    assert steps["Resource"]["Fn::Join"][1][-1] == {"Ref": cluster_id}
    assert sorted(_actions(statements["Ledger"])) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]


# --- queue, submitter, ledger, results ---------------------------------------------------------------------------


def test_submitter_gets_the_cluster_id_from_the_cluster_resource(template: Template) -> None:
    cluster_id, _ = _resource(template, "AWS::EMR::Cluster")
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "index.handler",
            "Runtime": "python3.14",
            "Timeout": 60,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "CLUSTER_ID": {"Ref": cluster_id},
                        "LEASE_SECONDS": "120",
                        "JOB_SCRIPT_URI": Match.string_like_regexp(r"^s3://cdk-.*\.py$"),
                        "PY_FILES_URI": Match.string_like_regexp(r"^s3://cdk-.*\.zip$"),
                        "DATA_BUCKETS": {"Ref": Match.string_like_regexp("Data")},
                    }
                )
            },
        },
    )


def test_queue_is_encrypted_with_a_dlq_sized_for_a_step_backlog(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "VisibilityTimeout": 360,  # six times the submitter's timeout
            "MessageRetentionPeriod": 14 * 86400,
            "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 50},
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 2},
        },
    )


def test_ledger_is_keyed_on_request_id_encrypted_recoverable_and_expiring(template: Template) -> None:
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "KeySchema": [{"AttributeName": "request_id", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )


def test_step_events_of_this_cluster_reach_the_results_topic_with_the_request_id(template: Template) -> None:
    cluster_id, _ = _resource(template, "AWS::EMR::Cluster")
    results = template.find_resources("AWS::SNS::Topic", {"Properties": {"DisplayName": "Reconciliation results"}})
    ((topic_id, topic),) = results.items()
    assert "KmsMasterKeyId" in topic["Properties"]
    _, rule = _resource(template, "AWS::Events::Rule")
    properties = rule["Properties"]
    assert properties["EventPattern"] == {
        "source": ["aws.emr"],
        "detail-type": ["EMR Step Status Change"],
        "detail": {"clusterId": [{"Ref": cluster_id}]},
    }
    (target,) = properties["Targets"]
    assert target["Arn"] == {"Ref": topic_id}
    assert target["InputTransformer"]["InputPathsMap"]["detail-name"] == "$.detail.name"
    assert '{"request_id":<detail-name>,' in target["InputTransformer"]["InputTemplate"]["Fn::Join"][1][0]
    assert "DeadLetterConfig" in target
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            }
                        )
                    ]
                )
            },
        },
    )


def test_dead_letters_undelivered_results_and_submitter_errors_raise_alarms(template: Template) -> None:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["MetricName"] for a in alarms.values()) == [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
    ]
    assert all(a["Properties"]["TreatMissingData"] == "notBreaching" for a in alarms.values())


def test_example_vpc_has_two_zones_an_s3_endpoint_flow_logs_and_no_lookups(template: Template) -> None:
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::FlowLog", 1)
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}},
    )
    zones = {
        json_zone(s["Properties"]["AvailabilityZone"]) for s in template.find_resources("AWS::EC2::Subnet").values()
    }
    assert zones == {0, 1}


def json_zone(value: Any) -> int:
    """The index of an ``Fn::Select`` over ``Fn::GetAZs``: the zones are resolved at deploy time."""
    index, azs = value["Fn::Select"]
    assert azs == {"Fn::GetAZs": ""}
    return int(index)


def test_retention_check_uses_the_submitters_own_backoff() -> None:
    handler = load_handler("emr_reconciliation_submitter")
    record = load_event("emr_reconciliation_sqs_record")

    def backoff(receives: int) -> int:
        record["attributes"]["ApproximateReceiveCount"] = str(receives)
        return int(handler._backoff(handler.SQSRecord(record)))

    for receives in (1, 5, 10, 50):
        assert deferral_seconds(receives) == sum(backoff(n) for n in range(1, receives + 1))


# --- arguments -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build() -> Callable[..., EmrReconciliationCluster]:
    """A factory of clusters in one shared stack and VPC; each call gets a fresh construct id."""
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Arguments", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["eu-west-1a", "eu-west-1b"], nat_gateways=1)
    counter = iter(range(1000))

    def make(**kwargs: Any) -> EmrReconciliationCluster:
        kwargs.setdefault("vpc", vpc)
        kwargs.setdefault("in_transit_certificates", CERTS)
        return EmrReconciliationCluster(stack, f"Cluster{next(counter)}", **kwargs)

    return make


def test_existing_key_and_data_buckets_are_used_and_no_task_fleet_is_possible(
    build: Callable[..., EmrReconciliationCluster],
) -> None:
    # No task fleet is one argument: the launch capacity (64 units) moves to the core fleet by itself.
    probe = build(task_instance_types=(), primary_on_demand=False)
    stack = cdk.Stack.of(probe)
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    bucket = s3.Bucket.from_bucket_name(stack, "Ledgers", "company-ledgers")
    alarm_topic = sns.Topic(stack, "Pager", master_key=key)
    service = build(
        encryption_key=key,
        data_buckets=[bucket],
        step_concurrency_level=4,
        submitter_max_concurrency=5,
        notification_topic=alarm_topic,
    )
    assert service.encryption_key is key
    assert service.data_buckets == [bucket]
    template = Template.from_stack(stack)
    clusters = template.find_resources("AWS::EMR::Cluster", {"Properties": {"StepConcurrencyLevel": 4}})
    assert len(clusters) == 1
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 5}})
    spot_primary = template.find_resources(
        "AWS::EMR::Cluster",
        {"Properties": {"Instances": {"MasterInstanceFleet": {"TargetSpotCapacity": 1}}}},
    )
    ((_, cluster),) = spot_primary.items()
    primary = cluster["Properties"]["Instances"]["MasterInstanceFleet"]
    assert "TargetOnDemandCapacity" not in primary
    assert list(primary["LaunchSpecifications"]) == ["SpotSpecification"]
    assert "TaskInstanceFleets" not in cluster["Properties"]["Instances"]
    assert cluster["Properties"]["Instances"]["CoreInstanceFleet"]["TargetOnDemandCapacity"] == 64
    pager = {"Ref": stack.get_logical_id(alarm_topic.node.default_child)}  # type: ignore[arg-type]
    paged = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"AlarmActions": [pager]}})
    assert len(paged) == 3
    assert service.notification_topic is alarm_topic
    functions = template.find_resources("AWS::Lambda::Function")
    assert any(
        f["Properties"].get("Environment", {}).get("Variables", {}).get("DATA_BUCKETS") == "company-ledgers"
        for f in functions.values()
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_transit_certificates": "s3://bucket/certs.tar"}, "in_transit_certificates must be the S3 URI of a zip"),
        ({"cluster_name": "bad/name"}, "cluster_name must be 1-128"),
        ({"release_label": "emr-6.15.0"}, "release_label must be an EMR 7.x release .* ships Python 3.9"),
        ({"release_label": "emr-8.0.0"}, "release_label must be an EMR 7.x release .* ships Python 3.9"),
        ({"release_label": "7.13"}, "release_label must be an EMR 7.x release"),
        ({"primary_instance_types": ()}, "primary_instance_types must list 1 to 30 instance types; got none"),
        (
            {"core_instance_types": [FleetInstanceType(f"r6g.{i}xlarge", 8, 100) for i in range(31)]},
            "core_instance_types must list 1 to 30 instance types; got 31",
        ),
        (
            {"core_instance_types": [FleetInstanceType("r6g.2xlarge", 8, 100)] * 2},
            "core_instance_types must not repeat an instance type",
        ),
        ({"task_instance_types": [FleetInstanceType("R6G 2XL", 8, 100)]}, "instance_type must be an EC2 type"),
        (
            {"primary_instance_types": [FleetInstanceType("r6g.xlarge", 2, 250)]},
            "primary_instance_types: weighted_capacity must be 1",
        ),
        ({"core_instance_types": [FleetInstanceType("r6g.2xlarge", 0, 100)]}, "weighted_capacity must be 1 to 1000"),
        ({"core_instance_types": [FleetInstanceType("r6g.2xlarge", 8, 0)]}, "ebs_size_gib must be 1 to 16384"),
        ({"core_spot_units": -1}, "core_on_demand_units and core_spot_units must not be negative"),
        ({"core_on_demand_units": 0, "task_on_demand_units": 64}, "core_on_demand_units \\+ core_spot_units"),
        ({"task_on_demand_units": 0, "core_on_demand_units": 64}, "task_on_demand_units \\+ task_spot_units"),
        (
            {"task_instance_types": (), "task_on_demand_units": 8},
            "task_on_demand_units and task_spot_units must be 0 without",
        ),
        ({"spot_price_percent_of_on_demand": 150}, "spot_price_percent_of_on_demand must be 1 to 100"),
        ({"minimum_capacity_units": 600}, "minimum_capacity_units must be at least 1 and at most"),
        ({"maximum_on_demand_capacity_units": 0}, "maximum_on_demand_capacity_units must be 1 to"),
        ({"maximum_core_capacity_units": 1024}, "maximum_core_capacity_units must be 1 to"),
        ({"core_on_demand_units": 600}, "the core and task units at launch must lie within"),
        ({"step_concurrency_level": 257}, "step_concurrency_level must be 1 to 256"),
        ({"job_script": Path("/nonexistent/job.py")}, "job_script must be the path"),
        ({"submitter_timeout": cdk.Duration.seconds(5)}, "submitter_timeout must be 10 seconds to 15 minutes"),
        ({"max_receive_count": 3}, "max_receive_count must be at least 10"),
        ({"request_retention": cdk.Duration.days(15)}, "request_retention must be at most 14 days"),
        ({"request_retention": cdk.Duration.hours(6)}, "at least the 41430 seconds that 50 deferred receives take"),
        ({"ledger_retention_days": 0}, "ledger_retention_days and log_retention_days must be at least 1"),
        ({"data_buckets": []}, "data_buckets must list at least one bucket"),
        ({"submitter_max_concurrency": 1}, "submitter_max_concurrency must be 2 to 1000"),
    ],
)
def test_bad_arguments_are_refused_before_any_resource_is_made(
    build: Callable[..., EmrReconciliationCluster], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


def test_public_subnets_are_refused(build: Callable[..., EmrReconciliationCluster]) -> None:
    with pytest.raises(ValueError, match="vpc_subnets must select one or more private subnets"):
        build(vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))


def test_example_stack_refuses_a_vpc_with_zones_and_a_single_zone() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Other", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["eu-west-1a", "eu-west-1b"])
    with pytest.raises(ValueError, match="pass either vpc or availability_zones"):
        EmrReconciliationStack(app, "A", env=ENV, in_transit_certificates=CERTS, vpc=vpc, availability_zones=["x"])
    with pytest.raises(ValueError, match="availability_zones must name at least two zones"):
        EmrReconciliationStack(app, "B", env=ENV, in_transit_certificates=CERTS, availability_zones=["eu-west-1a"])


# --- the runtime the steps get, and what the job writes ------------------------------------------------------------


def test_every_step_runs_pyspark_on_the_python_the_job_is_tested_on(template: Template) -> None:
    _, cluster = _resource(template, "AWS::EMR::Cluster")
    assert cluster["Properties"]["Configurations"] == [
        {
            "Classification": "spark-env",
            "Configurations": [{"Classification": "export", "ConfigurationProperties": {"PYSPARK_PYTHON": JOB_PYTHON}}],
        },
        {"Classification": "spark-defaults", "ConfigurationProperties": {"spark.pyspark.python": JOB_PYTHON}},
    ]
    assert f"/usr/bin/python{JOB_PYTHON_VERSION}" == JOB_PYTHON


def test_the_job_tests_run_on_that_python_and_the_default_releases_spark() -> None:
    root = Path(__file__).resolve().parents[2]
    pins = dict(
        line.split("==", 1)
        for line in (root / "requirements-emr-runtime.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["pyspark"] == RELEASE_SPARK_VERSION
    gate = (root / "tools" / "emr_runtime_gate.py").read_text()
    assert f'TARGET = "{JOB_PYTHON_VERSION}"' in gate
    makefile = (root / "Makefile").read_text()
    assert f"versions/{JOB_PYTHON_VERSION}.*/bin/python))),python{JOB_PYTHON_VERSION})" in makefile


def test_emr_service_role_trusts_emr_as_aws_documents_it(template: Template) -> None:
    roles = template.find_resources("AWS::IAM::Role")
    (statement,) = [
        s
        for role in roles.values()
        for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if s["Principal"] == {"Service": "elasticmapreduce.amazonaws.com"}
    ]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": "arn:aws:elasticmapreduce:us-east-1:111111111111:*"},
    }


def test_nodes_write_only_the_results_prefix_besides_logs(template: Template) -> None:
    statements = {s["Sid"]: s for s in _statements(template, "ReconciliationInstanceRole")}
    assert sorted(_actions(statements["WriteResults"])) == ["s3:GetObject", "s3:PutObject"]
    assert statements["WriteResults"]["Resource"]["Fn::Join"][1][1] == "/results/*"
    assert _actions(statements["ListResults"]) == ["s3:ListBucket"]
    assert statements["ListResults"]["Condition"] == {"StringLike": {"s3:prefix": ["results/*"]}}
    assert statements["ListResults"]["Resource"]["Fn::GetAtt"][0].startswith("ReconciliationControl")


def test_step_notifications_name_the_results_object_the_job_writes(template: Template) -> None:
    _, rule = _resource(template, "AWS::Events::Rule")
    (target,) = rule["Properties"]["Targets"]
    rendered = template.to_json()["Resources"]  # the InputTemplate joins the control bucket's name in
    input_template = target["InputTransformer"]["InputTemplate"]
    parts = input_template["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<bucket>" for p in parts)
    assert '"results":"s3://<bucket>/results/<detail-name>.json"' in text
    (bucket_ref,) = [p for p in parts if not isinstance(p, str)]
    assert bucket_ref["Ref"] in rendered and bucket_ref["Ref"].startswith("ReconciliationControl")
    # The submitter passes the job the same place for the same request id.
    submitter = load_handler("emr_reconciliation_submitter")
    assert submitter.results_uri("bucket", "recon-1") == "s3://bucket/results/recon-1.json"


def _render_input_template(template: str, paths: dict[str, str], event: dict[str, Any]) -> str:
    """EventBridge's input transformer as the EventBridge User Guide ("Amazon EventBridge input transformation")
    describes it: each <name> is replaced by the value its JSON path selects; inside a quoted string a string value
    goes in as it is (escaped for JSON), elsewhere the value goes in as JSON (a string with its quotes). (moto 5.2's
    transformer inserts every string bare, which the service does not, so it cannot stand in here.)"""
    out, inside, i = [], False, 0
    while i < len(template):
        char = template[i]
        if char == '"' and (i == 0 or template[i - 1] != "\\"):
            inside = not inside
        if char == "<":
            end = template.index(">", i)
            name = template[i + 1 : end]
            value: Any = event
            for key in paths[name].removeprefix("$.").split("."):
                value = value[key]
            out.append(json.dumps(value)[1:-1] if inside and isinstance(value, str) else json.dumps(value))
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def test_a_failed_step_event_becomes_a_notification_that_names_its_results_object(template: Template) -> None:
    _, rule = _resource(template, "AWS::Events::Rule")
    (target,) = rule["Properties"]["Targets"]
    transformer = target["InputTransformer"]
    parts = transformer["InputTemplate"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "control-bucket" for p in parts)
    # An EMR Step Status Change event with the fields the EMR Management Guide lists for it; example values.
    event = {
        "version": "0",
        "id": "999cccaa-eaaa-0000-1111-123456789012",
        "detail-type": "EMR Step Status Change",
        "source": "aws.emr",
        "account": "111111111111",
        "time": "2026-11-30T21:04:23Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "severity": "ERROR",
            "actionOnFailure": "CONTINUE",
            "stepId": "s-1EXAMPLE",
            "name": "recon-2026-11-001",
            "clusterId": "j-1EXAMPLE",
            "state": "FAILED",
            "message": "Step s-1EXAMPLE (recon-2026-11-001) in Amazon EMR cluster j-1EXAMPLE failed.",
        },
    }
    notification = json.loads(_render_input_template(text, transformer["InputPathsMap"], event))
    assert notification == {
        "request_id": "recon-2026-11-001",
        "state": "FAILED",
        "message": event["detail"]["message"],
        "step_id": "s-1EXAMPLE",
        "cluster_id": "j-1EXAMPLE",
        "time": "2026-11-30T21:04:23Z",
        "results": "s3://control-bucket/results/recon-2026-11-001.json",
    }
