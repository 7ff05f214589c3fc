"""VPC helpers: the error that names the construct when a zone lookup needs credentials."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import (
    Annotations,
    Stack,
    Token,
)
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

#: What ``Stack.availability_zones`` returns while CDK has no answer to its lookup (aws-cdk-lib's
#: ``ContextProvider`` dummy value for the ``availability-zones`` provider).
_DUMMY_ZONES = frozenset({"dummy1a", "dummy1b", "dummy1c"})
#: The key under which the ``cdk`` CLI hands an app a lookup it could not make (cloud-assembly-api's
#: ``PROVIDER_ERROR_KEY``): ``{"$providerError": "Need to perform AWS calls ...", "$dontSaveContext": true}``.
_PROVIDER_ERROR = "$providerError"


def explain_zone_lookup(construct: Construct, vpc: ec2.IVpc, *, created: bool) -> None:
    """Name the construct and the argument that avoids it when ``cdk synth`` could not look the zones up.

    In an environment-specific stack, ``ec2.Vpc`` asks CDK for the Region's Availability Zones (even when given
    zone names: it checks them). Without AWS credentials the CLI then stops with CDK's own error on the *stack*
    ("Need to perform AWS calls for account ..."), which says neither which construct asked nor how to avoid it.
    This adds an error on ``construct`` that does, on the synthesis where the CLI reports the failed lookup (the
    first one, with no answer yet, passes: with credentials the lookup then succeeds). ``created`` says the
    construct made ``vpc`` itself; otherwise ``vpc`` is the caller's and is blamed only if its zones are CDK's
    placeholders.
    """
    stack = Stack.of(vpc)
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return  # an environment-agnostic stack uses Fn::GetAZs: nothing is looked up
    key = f"availability-zones:account={stack.account}:region={stack.region}"
    answer = construct.node.try_get_context(key)
    if not (isinstance(answer, Mapping) and _PROVIDER_ERROR in answer):
        return
    name = f"{type(construct).__name__} {construct.node.path!r}"
    if created:
        # The stack answered with CDK's placeholders, so this construct's VPC made the lookup (a stack that
        # overrides availability_zones, such as blueprints.ExampleStack, answers without one).
        if not _DUMMY_ZONES.intersection(stack.availability_zones):
            return
        message = (
            f"{name} creates a VPC in the environment-specific stack {stack.node.path!r}, and CDK looks that "
            f"Region's Availability Zones up ({key}), which needs AWS credentials. To synthesize without them, "
            "pass vpc= (an ec2.IVpc you own), or build the construct in a blueprints.ExampleStack (its zones come "
            "from Fn::GetAZs; availability_zones= then names the zones to use), or run `cdk synth` once with "
            "credentials and commit cdk.context.json."
        )
    else:
        if not _DUMMY_ZONES.intersection(z for z in vpc.availability_zones if not Token.is_unresolved(z)):
            return
        message = (
            f"{name}: the VPC passed as vpc= was built in the environment-specific stack {stack.node.path!r}, "
            f"whose Availability Zones CDK looks up ({key}), which needs AWS credentials. To synthesize without "
            "them, build that VPC in a blueprints.ExampleStack (its zones come from Fn::GetAZs), or pass "
            "ec2.Vpc.from_vpc_attributes(..., availability_zones=[...]), or run `cdk synth` once with "
            "credentials and commit cdk.context.json."
        )
    Annotations.of(construct).add_error(message)
