"""The library's face (issue #16, section 2): every public construct shows its real signature and docstring,
refuses a wrong type with a message naming the construct, the argument and the type before it builds anything,
takes a blueprints enum or its value string, and ``dir(blueprints)`` lists the public API only."""

from __future__ import annotations

import importlib
import inspect
import pydoc
import typing
from collections.abc import Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sns as sns
from constructs import Construct

import blueprints
from blueprints.constructs.api import explain, problem, type_text
from blueprints.constructs.vertical_scaling import ReplacedInstanceAction, ResizeMode

CONSTRUCTS = sorted(
    (name for name in blueprints.__all__ if isinstance(getattr(blueprints, name), type)),
    key=str,
)
CONSTRUCTS = [n for n in CONSTRUCTS if issubclass(getattr(blueprints, n), Construct)]


def _own_parameters(cls: type) -> Iterator[inspect.Parameter]:
    """The keyword parameters a construct declares itself (not scope, id, or a stack's **kwargs)."""
    for parameter in inspect.signature(cls).parameters.values():
        if parameter.name not in ("scope", "id") and parameter.kind is parameter.KEYWORD_ONLY:
            yield parameter


def _cases() -> Iterator[tuple[str, str]]:
    for name in CONSTRUCTS:
        cls = getattr(blueprints, name)
        if "__init__" not in cls.__dict__:
            continue
        for parameter in _own_parameters(cls):
            yield name, parameter.name


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Api", env=cdk.Environment(account="111111111111", region="us-east-1"))


def test_the_public_constructs_are_found() -> None:
    assert {"VerticalScaling", "EmrReconciliationCluster", "UnifiedApi", "FloatingIpAdminServer"} <= set(CONSTRUCTS)
    assert len(CONSTRUCTS) >= 20


def _signature_line(page: str) -> str:
    """The constructor's signature as ``help()`` prints it, on one line: Python 3.13's pydoc wraps a long signature
    one parameter per line (``UnifiedApi(`` then ``scope: ...,``), earlier versions print it on one line."""
    lines = [line.strip(" |") for line in page.splitlines()[3:]]
    joined, depth = "", 0
    for line in lines:
        joined += line if joined.endswith("(") or not joined else " " + line
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            break
    return joined.replace("( ", "(").replace(", )", ")")


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_signature_and_help_show_the_constructor(name: str) -> None:
    cls = getattr(blueprints, name)
    signature = inspect.signature(cls)
    init = inspect.signature(cls.__init__)
    assert list(signature.parameters) == list(init.parameters)[1:]
    assert "args" not in signature.parameters
    page = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    header = _signature_line(page)
    assert header.strip(" |").startswith(f"{name}(scope"), header
    assert "*args: Any" not in header
    assert "object at 0x" not in header, "defaults show as code, e.g. Duration.minutes(30)"
    own = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    assert own and own.splitlines()[0] in page
    assert own.splitlines()[0] != inspect.cleandoc(Construct.__doc__ or "").splitlines()[0]


def test_help_of_vertical_scaling_reads_as_its_constructor() -> None:
    page = pydoc.render_doc(blueprints.VerticalScaling, renderer=pydoc.plaintext)
    assert "cooldown: 'Duration' = Duration.minutes(30)" in page
    assert "mode: 'ResizeMode | str' = ResizeMode.RESTART" in page
    assert "Resizes EC2 instances that carry a tag" in page
    assert "instance_sizes:" in blueprints.VerticalScaling.__doc__


def test_dir_lists_the_public_api_only() -> None:
    listed = dir(blueprints)
    assert set(blueprints.__all__) <= set(listed)
    for internal in ("config", "example_app", "jobs", "lambdas", "constructs", "stacks", "_explain"):
        assert internal not in listed
    for internal in ("config", "example_app", "jobs", "lambdas"):
        assert importlib.import_module(f"blueprints.{internal}") is not None  # still importable
    # The example's stand-in domain API is the example's, not the library's.
    assert "DomainApi" not in listed and not hasattr(blueprints, "DomainApi")
    assert importlib.import_module("blueprints.stacks.unified_api").DomainApi is not None


def test_a_duration_argument_given_an_int_names_the_argument_and_type() -> None:
    """Was ``AttributeError: 'int' object has no attribute 'to_seconds'``."""
    stack = _stack()
    with pytest.raises(TypeError, match=r"^VerticalScaling: argument 'cooldown' must be Duration; got int 30$"):
        blueprints.VerticalScaling(
            stack, "Scaling", instance_sizes=["m7i.large", "m7i.xlarge"], target_tag_value="web", cooldown=30
        )
    assert stack.node.children == []


def test_an_enum_argument_given_a_wrong_string_lists_the_accepted_values() -> None:
    """Was ``AttributeError: 'str' object has no attribute 'value'``."""
    stack = _stack()
    with pytest.raises(
        ValueError,
        match=r"^VerticalScaling: argument 'mode' must be one of ResizeMode.RESTART or 'restart', "
        r"ResizeMode.REPLACE or 'replace'; got 'REPLACE'$",
    ):
        blueprints.VerticalScaling(
            stack, "S", instance_sizes=["m7i.large", "m7i.xlarge"], target_tag_value="w", mode="REPLACE"
        )
    assert stack.node.children == []


def test_an_enum_argument_takes_the_member_or_its_value_string() -> None:
    stack = _stack()
    by_value = blueprints.VerticalScaling(
        stack,
        "ByValue",
        instance_sizes=["m7i.large", "m7i.xlarge"],
        target_tag_value="web",
        mode="replace",
        replaced_instance_action="terminate",
    )
    assert by_value.mode is ResizeMode.REPLACE
    with pytest.raises(ValueError, match=r"argument 'mode' must be one of ResizeMode.RESTART or 'restart'"):
        blueprints.VerticalScaling(stack, "Bad", instance_sizes=["m7i.large", "m7i.xlarge"], mode="resize")
    # CDK's own enums are not blueprints', and take their members only.
    with pytest.raises(TypeError, match=r"'encryption'.*BucketEncryption"):
        blueprints.SecureBucket(stack, "Logs", encryption="s3", access_log_destination=True)
    assert ReplacedInstanceAction("terminate") is ReplacedInstanceAction.TERMINATE


def test_a_string_cidr_where_a_sequence_is_expected_is_refused() -> None:
    """Was iterated character by character ('1', '0', '.', ...)."""
    stack = _stack()
    with pytest.raises(
        TypeError,
        match=r"^FloatingIpAdminServer: argument 'console_ingress_cidrs' must be Sequence\[str\]; got the single "
        r"string '198.51.100.0/24', not a sequence: wrap it in a list, \['198.51.100.0/24'\]$",
    ):
        blueprints.FloatingIpAdminServer(stack, "Admin", console_ingress_cidrs="198.51.100.0/24")
    assert stack.node.children == []


def test_items_of_a_sequence_and_jsii_interfaces_are_checked() -> None:
    stack = _stack()
    with pytest.raises(TypeError, match=r"argument 'vpc' must be ec2.IVpc \| None; got str 'vpc-0123'"):
        blueprints.UnifiedApi(stack, "Api", domain_name="api.example.com", vpc="vpc-0123")
    topic = sns.Topic(stack, "Topic")
    with pytest.raises(TypeError, match=r"argument 'vpc' must be ec2.IVpc \| None; got Topic"):
        blueprints.UnifiedApi(stack, "Api", domain_name="api.example.com", vpc=topic)
    with pytest.raises(TypeError, match=r"argument 'instance_sizes' .* item 1 is not str \| Sequence\[str\]"):
        blueprints.VerticalScaling(stack, "S", instance_sizes=["m5.large", ("m5.xlarge", 7)], target_tag_value="w")
    with pytest.raises(TypeError, match=r"argument 'max_concurrency' must be int; got bool True"):
        blueprints.VerticalScaling(
            stack, "S", instance_sizes=["m5.large", "m5.xlarge"], target_tag_value="w", max_concurrency=True
        )
    # What is right passes: an imported VPC (a jsii proxy), and a topic for an ITopic.
    imported = ec2.Vpc.from_vpc_attributes(stack, "Imported", vpc_id="vpc-0123", availability_zones=["us-east-1a"])
    assert problem(imported, ec2.IVpc) is None
    assert problem(topic, sns.ITopic) is None
    assert problem(topic, typing.Optional[ec2.IVpc]) is not None  # noqa: UP045 - the typing form, on purpose
    assert type_text(typing.Sequence[ec2.ISubnet] | None) == "Sequence[ec2.ISubnet] | None"


def test_a_renamed_argument_says_what_it_is_now() -> None:
    stack = _stack()
    with pytest.raises(
        TypeError, match=r"unexpected argument 'alarm_topic' \(alarm_topic was renamed notification_topic\)"
    ):
        blueprints.FloatingIpAdminServer(stack, "Admin", alarm_topic=sns.Topic(stack, "Topic"))


@pytest.mark.parametrize(("name", "argument"), list(_cases()))
def test_every_argument_of_every_construct_refuses_a_wrong_type_before_building(name: str, argument: str) -> None:
    stack = _stack()
    cls = getattr(blueprints, name)
    hint = inspect.signature(cls).parameters[argument].annotation
    assert hint is not inspect.Parameter.empty, f"{name}.{argument} has no type annotation"
    with pytest.raises(TypeError, match=rf"^{name}: argument '{argument}' must be "):
        cls(stack, "Construct", **{argument: object()})
    assert stack.node.children == [], "nothing is built before the arguments are checked"


def test_explain_is_idempotent_and_keeps_a_subclass_working() -> None:
    assert explain(blueprints.VerticalScaling) is blueprints.VerticalScaling

    class Mine(blueprints.SecureQueue):  # type: ignore[misc]
        pass

    stack = _stack()
    with pytest.raises(TypeError, match=r"^SecureQueue: argument 'max_receive_count' must be int"):
        Mine(stack, "Queue", max_receive_count="5")
    assert Mine(stack, "Ok", max_receive_count=5) is not None
