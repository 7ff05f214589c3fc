"""The constructors' docstrings are the source of truth for their arguments; the docs pages' tables must say the
same (names and defaults), and both must match the real signature, so neither can drift (issue #16, section 2)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from constructs import Construct

import blueprints
from tests.docs_arguments_kit import (
    default_problem,
    doc_tables,
    docstring_arguments,
    docstring_attributes,
    normalize,
)

TABLES = doc_tables()
#: The architecture constructs, each with a marked argument table on its docs page.
DOCUMENTED = [
    "EmrReconciliationCluster",
    "FloatingIpAdminServer",
    "MwaaDrPrimary",
    "MwaaDrSecondary",
    "SecurityLakeSubscriber",
    "SecurityLakeVisualization",
    "UnifiedApi",
    "VerticalScaling",
]
#: Every public construct or stack that defines its own constructor.
CONSTRUCTORS = [
    name
    for name in blueprints.__all__
    if isinstance(getattr(blueprints, name), type)
    and issubclass(getattr(blueprints, name), Construct)
    and "__init__" in getattr(blueprints, name).__dict__
]


def test_every_architecture_construct_has_one_marked_table() -> None:
    assert sorted(TABLES) == DOCUMENTED


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_the_docstring_lists_every_argument_of_the_signature(name: str) -> None:
    cls = getattr(blueprints, name)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # the real defaults, not help()'s
    documented = docstring_arguments(cls.__init__)
    assert sorted(documented) == sorted(p.name for p in parameters), f"{name}: Args: names"
    for parameter in parameters:
        if parameter.name in ("scope", "id") or parameter.kind is parameter.VAR_KEYWORD:
            continue
        default = documented[parameter.name]
        problem = default_problem(parameter.default, "required" if default is None else default)
        assert problem is None, f"{name}.{parameter.name}: {problem}"


@pytest.mark.parametrize("name", DOCUMENTED)
def test_the_docs_table_says_what_the_docstring_says(name: str) -> None:
    cls = getattr(blueprints, name)
    page, rows = TABLES[name]
    documented = docstring_arguments(cls.__init__)
    arguments = [n for n in documented if n not in ("scope", "id")]
    assert [row.name for row in rows] == arguments, f"{Path(page).name}: the {name} table's rows"
    for row in rows:
        default = documented[row.name]
        expected = "required" if default is None else normalize(default)
        assert normalize(row.default) == expected, f"{page.name}: {name}.{row.name} default"
        problem = default_problem(inspect.signature(cls.__init__).parameters[row.name].default, row.default)
        assert problem is None, f"{page.name}: {name}.{row.name}: {problem}"


def test_the_drift_test_catches_a_wrong_default_and_a_missing_row() -> None:
    """The checks above can fail: a table that says 15 minutes for a 30-minute default, or misses a row."""
    parameter = inspect.signature(blueprints.VerticalScaling.__init__).parameters["cooldown"]
    assert default_problem(parameter.default, "15 minutes") is not None
    assert default_problem(parameter.default, "30 minutes") is None
    assert default_problem(inspect.Parameter.empty, "`None`") is not None
    _, rows = TABLES["VerticalScaling"]
    documented = [n for n in docstring_arguments(blueprints.VerticalScaling.__init__) if n not in ("scope", "id")]
    assert [row.name for row in rows[:-1]] != documented


@pytest.mark.parametrize("name", [*DOCUMENTED, "SecurityLakeShareAcceptance"])
def test_the_docstring_lists_every_public_attribute_with_its_type(
    name: str, built_constructs: dict[str, object]
) -> None:
    construct = built_constructs[name]
    public = [key for key in vars(construct) if not key.startswith("_")]
    attributes = docstring_attributes(type(construct))
    assert sorted(attributes) == sorted(public), f"{name}: Attributes: names"
    assert all(attributes.values()), f"{name}: every attribute has a type"


@pytest.fixture(scope="module")
def built_constructs() -> dict[str, object]:
    """One of each construct, built as the grants test builds them (no synthesis needed to list attributes)."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_route53 as route53

    from blueprints.constructs.security_lake import parse_sources
    from tests.conftest import cdk_context

    app = cdk.App(context=cdk_context())

    def stack(name: str, region: str = "us-east-1", account: str = "111111111111") -> cdk.Stack:
        return blueprints.ExampleStack(app, name, env=cdk.Environment(account=account, region=region))

    s = stack("Scaling")
    out: dict[str, object] = {
        "VerticalScaling": blueprints.VerticalScaling(
            s, "S", instance_sizes=["m7i.large", "m7i.xlarge"], target_tag_value="a"
        )
    }
    s = stack("Emr")
    vpc = ec2.Vpc(s, "Vpc", max_azs=2)
    out["EmrReconciliationCluster"] = blueprints.EmrReconciliationCluster(
        s, "E", vpc=vpc, in_transit_certificates="s3://certs-bucket/certificates.zip"
    )
    out["FloatingIpAdminServer"] = blueprints.FloatingIpAdminServer(
        stack("WebLogic"), "W", availability_zones=["us-east-1a", "us-east-1b"]
    )
    s = stack("Api")
    zone = route53.HostedZone.from_hosted_zone_attributes(s, "Zone", hosted_zone_id="Z0123", zone_name="example.com")
    out["UnifiedApi"] = blueprints.UnifiedApi(
        s, "U", domain_name="api.example.com", hosted_zone=zone, availability_zones=["us-east-1a", "us-east-1b"]
    )
    s = stack("Airflow")
    out["MwaaDrPrimary"] = blueprints.MwaaDrPrimary(
        s, "P", environment_name="orders", dr_region="us-west-2", vpc=ec2.Vpc(s, "Vpc", max_azs=2)
    )
    s = stack("AirflowDr", region="us-west-2")
    out["MwaaDrSecondary"] = blueprints.MwaaDrSecondary(
        s,
        "D",
        strategy="active_passive",
        primary_environment_name="orders",
        primary_region="us-east-1",
        vpc=ec2.Vpc(s, "Vpc", max_azs=2),
    )
    sources = parse_sources("CLOUD_TRAIL_MGMT,SH_FINDINGS")
    out["SecurityLakeSubscriber"] = blueprints.SecurityLakeSubscriber(
        stack("Lake"), "L", subscriber_account="222222222222", sources=sources
    )
    viz = blueprints.SecurityLakeVisualization(
        stack("Viz", account="222222222222"),
        "V",
        lake_account="111111111111",
        sources=sources,
        quicksight_owner_arn="arn:aws:quicksight:us-east-1:222222222222:group/default/security-admins",
    )
    out["SecurityLakeVisualization"] = viz
    out["SecurityLakeShareAcceptance"] = viz.share_acceptance
    return out
