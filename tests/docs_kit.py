"""Run the Python code blocks of README.md and docs/*.md as a reader would.

A page's blocks run in order in one namespace, as a reader copies them one
after the other. The harness adds only this, and nothing else:

* Every ``cdk.App()`` a block makes (``aws_cdk.App`` is swapped for
  :meth:`PageRun.new_app` while the page runs) gets the context of the
  ``cdk.json`` the README tells users to write (the feature flags), which is
  what the ``cdk`` CLI hands a user's App, an output directory of its own,
  CDK's built-in template validation off (as ``blueprints.example_app.new_app``
  does for the example app), and the AwsSolutions and Serverless nag packs.
* A block written for the inside of the reader's own stack uses ``self``:
  the marker ``<!-- docs-test: needs self -->`` before it. ``self`` is then an
  environment-specific ``blueprints.ExampleStack`` (account 111111111111,
  us-east-1), the stack the README recommends for synthesizing offline; any
  other AWS lookup still shows up as missing context.
* The other names the prose says the reader already has are listed in the same
  marker (``<!-- docs-test: needs self, cpu_high_alarm -->``) and built in
  ``self`` by :data:`READER_HAS`, each nag-clean, so they cannot hide findings.

A block that is deliberately partial (a fragment that explains one call) is
marked ``<!-- docs-test: partial -->`` and only parsed (``ast.parse``).

After the page has run, every App is synthesized; the page fails on an error,
an unacknowledged nag finding, an error annotation, or missing context (a
lookup that ``cdk synth`` would make with AWS credentials, and that fails
without them).
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam

from blueprints import ExampleStack
from blueprints.example_app import add_nag_packs

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`\s]*)[^`]*$")
_MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<body>.*?)\s*-->")
_PYTHON = {"python", "py", "python3"}

#: The account and Region of the stack ``self`` stands for.
READER_ENV = cdk.Environment(account="111111111111", region="us-east-1")


@dataclass
class Block:
    """One fenced Python block of a page."""

    page: Path
    line: int  #: 1-based line of the first code line in the page
    source: str  #: dedented
    partial: bool = False
    needs: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{_shown(self.page)}:{self.line}"


def _shown(page: Path) -> str:
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def _parse_marker(body: str, where: str) -> tuple[bool, list[str]]:
    if body == "partial":
        return True, []
    if body.startswith("needs "):
        names = [n.strip() for n in body[len("needs ") :].split(",") if n.strip()]
        unknown = [n for n in names if n not in READER_HAS]
        if unknown:
            raise ValueError(
                f"{where}: docs-test needs {unknown}, which the harness does not build ({sorted(READER_HAS)})"
            )
        return False, names
    raise ValueError(f"{where}: unknown docs-test marker {body!r}; use 'partial' or 'needs NAME, NAME'")


def blocks(page: Path) -> list[Block]:
    """The page's Python blocks, each with the docs-test marker on the closest non-blank line before it."""
    lines = page.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening or not opening["info"]:
            index += 1
            continue
        indent, info = opening["indent"], opening["info"].lower()
        end = index + 1
        while end < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[end]):
            end += 1
        if info in _PYTHON:
            where = f"{_shown(page)}:{index + 2}"
            previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            marker = _MARKER.search(previous)
            partial, needs = _parse_marker(marker["body"], where) if marker else (False, [])
            source = textwrap.dedent("\n".join(lines[index + 1 : end]))
            found.append(Block(page, index + 2, source, partial, needs))
        index = end + 1
    return found


def readme_cdk_json() -> dict[str, Any]:
    """The ``cdk.json`` the README shows for the reader's own app (its first ```json block after 'cdk.json')."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- docs-test: cdk.json -->\s*```json\n(?P<json>.*?)\n```", text, re.S)
    if not match:
        raise ValueError(
            "README.md must show the reader's cdk.json in a ```json block after <!-- docs-test: cdk.json -->"
        )
    return dict(json.loads(match["json"]))


# --- the names a reader already has, built nag-clean in ``self`` -----------------------------------------


def _vpc(stack: cdk.Stack) -> ec2.IVpc:
    vpc = ec2.Vpc(stack, "ReaderVpc", max_azs=2, nat_gateways=1)
    vpc.add_flow_log("FlowLog")
    return vpc


def _alarm(name: str) -> Callable[[cdk.Stack], cloudwatch.IAlarm]:
    def build(stack: cdk.Stack) -> cloudwatch.IAlarm:
        metric = cloudwatch.Metric(namespace="Reader", metric_name=name)
        return cloudwatch.Alarm(stack, f"Reader{name}", metric=metric, threshold=1, evaluation_periods=1)

    return build


def _role(service: str) -> Callable[[cdk.Stack], iam.IRole]:
    def build(stack: cdk.Stack) -> iam.IRole:
        return iam.Role(stack, f"Reader{service.split('.')[0].title()}Role", assumed_by=iam.ServicePrincipal(service))

    return build


def _target_group(stack: cdk.Stack) -> elbv2.IApplicationTargetGroup:
    existing = stack.node.try_find_child("ReaderVpc")
    vpc = existing if isinstance(existing, ec2.Vpc) else _vpc(stack)
    return elbv2.ApplicationTargetGroup(
        stack,
        "ReaderTargets",
        vpc=vpc,
        port=443,
        protocol=elbv2.ApplicationProtocol.HTTPS,
        target_type=elbv2.TargetType.INSTANCE,
    )


def _imported_api(stack: cdk.Stack) -> apigw.IRestApi:
    return apigw.RestApi.from_rest_api_attributes(
        stack, "ReaderBillingApi", rest_api_id="a1b2c3d4e5", root_resource_id="r00tid0001"
    )


#: Name -> how the harness builds it in ``self``; ``self`` itself is the stack.
READER_HAS: dict[str, Callable[[cdk.Stack], Any]] = {
    "self": lambda stack: stack,
    "vpc": _vpc,
    "cpu_high_alarm": _alarm("CpuHigh"),
    "slow_responses_alarm": _alarm("SlowResponses"),
    "target_group": _target_group,
    "web_instance_role": _role("ec2.amazonaws.com"),
    "my_requester_role": _role("lambda.amazonaws.com"),
    "imported_api": _imported_api,
}


# --- running a page -------------------------------------------------------------------------------------

_RealApp = cdk.App


@dataclass
class PageRun:
    """What running a page's blocks left behind: every App, by its output directory."""

    outdir_root: Path
    context: dict[str, Any]
    apps: list[tuple[cdk.App, Path]] = field(default_factory=list)

    def new_app(self, **props: Any) -> cdk.App:
        outdir = self.outdir_root / f"app{len(self.apps)}"
        context = {**self.context, **(props.pop("context", None) or {})}
        props.setdefault("outdir", str(outdir))
        props.setdefault("builtin_cloud_formation_validation", False)
        app = _RealApp(context=context, **props)
        add_nag_packs(app)
        self.apps.append((app, Path(props["outdir"])))
        return app


@contextmanager
def docs_apps(run: PageRun) -> Iterator[None]:
    """``aws_cdk.App(...)`` makes a :class:`PageRun` app while the page runs."""

    def app(**props: Any) -> cdk.App:
        return run.new_app(**props)

    app.is_app = _RealApp.is_app  # type: ignore[attr-defined]
    cdk.App = app  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        cdk.App = _RealApp  # type: ignore[misc]


def run_page(page: Path, outdir_root: Path) -> list[str]:
    """Run the page's blocks and synthesize what they built; return every problem found (empty: all good)."""
    page_blocks = blocks(page)
    for block in page_blocks:
        ast.parse(block.source, filename=block.where)
    runnable = [b for b in page_blocks if not b.partial]
    if not runnable:
        return []
    run = PageRun(outdir_root, dict(readme_cdk_json().get("context", {})))
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    reader_stack: cdk.Stack | None = None
    with docs_apps(run):
        for block in runnable:
            if block.needs and reader_stack is None:
                reader_stack = ExampleStack(cdk.App(), "Reader", env=READER_ENV)
            for name in block.needs:
                if name not in namespace:
                    assert reader_stack is not None
                    namespace[name] = READER_HAS[name](reader_stack)
            code = compile("\n" * (block.line - 1) + block.source, str(block.page), "exec")
            exec(code, namespace)
    problems: list[str] = []
    for app, outdir in run.apps:
        problems.extend(synth_problems(app, outdir))
    return problems


def synth_problems(app: cdk.App, outdir: Path) -> list[str]:
    """Synthesize ``app`` (nag packs on) and list what ``cdk synth`` without credentials would refuse."""
    try:
        app.synth()
    except Exception as error:  # jsii raises RuntimeError("ValidationFailed") on a nag finding
        report = outdir / "validation-report.json"
        if report.exists():
            return [f"nag: {v}" for v in _violations(json.loads(report.read_text()))] or [f"synthesis failed: {error}"]
        return [f"synthesis failed: {error}"]
    manifest = json.loads((outdir / "manifest.json").read_text())
    problems = [f"missing context (cdk synth would call AWS): {m['key']}" for m in manifest.get("missing", [])]
    for artifact in manifest.get("artifacts", {}).values():
        metadata = dict(artifact.get("metadata") or {})
        extra = artifact.get("additionalMetadataFile")
        if extra:
            metadata.update(json.loads((outdir / extra).read_text()))
        for path, entries in metadata.items():
            problems.extend(
                f"error annotation at {path}: {e['data']}" for e in entries if e.get("type") == "aws:cdk:error"
            )
    return problems


def _violations(report: dict[str, Any]) -> list[str]:
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            paths = [c.get("constructPath") for c in violation.get("violatingConstructs", [])]
            found.append(f"{violation.get('ruleName')} at {paths}: {violation.get('description', '')[:120]}")
    return found
