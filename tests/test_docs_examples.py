"""Every Python block in README.md and docs/*.md runs, as a reader would run it (see tests/docs_kit.py).

Each page's blocks run in one namespace, in order; then every App they made is
synthesized with the AwsSolutions and Serverless packs, with the feature flags
of the ``cdk.json`` that the README shows. A page fails on an exception, an
unacknowledged nag finding, an error annotation, or a lookup that ``cdk synth``
would need AWS credentials for.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest

from blueprints.example_app import new_app
from tests import docs_kit
from tests.conftest import cdk_context
from tests.docs_kit import PAGES, ROOT


@pytest.fixture(scope="module")
def docs_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[list[str], Path]]:
    """Every page run once (a few seconds in all): its problems, and the directory of its Apps' output."""
    runs = {}
    for page in PAGES:
        outdir = tmp_path_factory.mktemp(page.stem)
        try:
            problems = docs_kit.run_page(page, outdir)
        except Exception as error:  # reported by the page's own test, with the page's line in the message
            problems = [f"{type(error).__name__}: {error}\n{''.join(traceback.format_tb(error.__traceback__)[-3:])}"]
        runs[page] = (problems, outdir)
    return runs


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_synthesize_nag_clean_offline(page: Path, docs_runs: dict[Path, tuple[list[str], Path]]) -> None:
    problems, _ = docs_runs[page]
    assert problems == [], "\n".join(problems)


def test_the_examples_templates_pass_cfn_lint(docs_runs: dict[Path, tuple[list[str], Path]]) -> None:
    """What the docs' examples synthesize passes cfn-lint (W3005 ignored, as for the example app)."""
    templates = sorted(str(t) for _, outdir in docs_runs.values() for t in outdir.glob("*/*.template.json"))
    assert len(templates) >= len([p for p in PAGES if any(not b.partial for b in docs_kit.blocks(p))])
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3005", "--", *templates], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_page_with_python_has_a_block_that_runs() -> None:
    """A page may mark fragments partial, but its main example must run (no page opts out wholesale)."""
    only_partial = [
        str(page.relative_to(ROOT))
        for page in PAGES
        if (found := docs_kit.blocks(page)) and all(block.partial for block in found)
    ]
    assert only_partial == []


def test_partial_blocks_are_still_parsed(tmp_path: Path) -> None:
    """A block marked partial is parsed: a syntax error in it fails its page."""
    page = tmp_path / "probe.md"
    page.write_text('<!-- docs-test: partial -->\n```python\nunified.add_domain("x", ...\n```\n')
    with pytest.raises(SyntaxError):
        docs_kit.run_page(page, tmp_path)


def test_blocks_are_found_when_indented_and_markers_apply(tmp_path: Path) -> None:
    page = tmp_path / "probe.md"
    page.write_text(
        "Text\n\n<!-- docs-test: needs self, vpc -->\n```python\nx = 1\n```\n\n"
        "1. A step:\n\n   <!-- docs-test: partial -->\n   ```python\n   y = x\n   ```\n"
        "```bash\nnot python\n```\n"
    )
    found = docs_kit.blocks(page)
    assert [(b.line, b.source, b.partial, b.needs) for b in found] == [
        (5, "x = 1", False, ["self", "vpc"]),
        (12, "y = x", True, []),
    ]


def test_an_unknown_marker_or_name_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "probe.md"
    page.write_text("<!-- docs-test: needs self, my_database -->\n```python\nx = 1\n```\n")
    with pytest.raises(ValueError, match="my_database"):
        docs_kit.blocks(page)
    page.write_text("<!-- docs-test: skip -->\n```python\nx = 1\n```\n")
    with pytest.raises(ValueError, match="unknown docs-test marker 'skip'"):
        docs_kit.blocks(page)


def test_the_harness_reports_a_nag_finding_and_a_lookup(tmp_path: Path) -> None:
    """The two things the harness exists to catch: an unacknowledged finding, and an AZ lookup."""
    page = tmp_path / "probe.md"
    page.write_text(
        "```python\nimport aws_cdk as cdk\nfrom aws_cdk import aws_ec2 as ec2, aws_sqs as sqs\n"
        "app = cdk.App()\n"
        "stack = cdk.Stack(app, 'Probe', env=cdk.Environment(account='111111111111', region='eu-west-1'))\n"
        "ec2.Vpc(stack, 'Vpc', max_azs=2)\n"
        "sqs.Queue(cdk.Stack(app, 'Queue'), 'Queue')\n```\n"
    )
    problems = docs_kit.run_page(page, tmp_path)
    assert any(p.startswith("nag: AwsSolutions-SQS3") for p in problems), problems
    assert any(p.startswith("nag: AwsSolutions-VPC7") for p in problems), problems
    page.write_text(
        "```python\nimport aws_cdk as cdk\nfrom aws_cdk import aws_ec2 as ec2\n"
        "app = cdk.App()\n"
        "stack = cdk.Stack(app, 'Probe', env=cdk.Environment(account='111111111111', region='eu-west-1'))\n"
        "ec2.Vpc(stack, 'Vpc', max_azs=2, flow_logs={'All': ec2.FlowLogOptions()})\n```\n"
    )
    problems = docs_kit.run_page(page, tmp_path / "lookup")
    assert problems == [
        "missing context (cdk synth would call AWS): availability-zones:account=111111111111:region=eu-west-1"
    ]


def test_readme_cdk_json_has_the_flags_the_constructs_are_tested_with() -> None:
    """The README's cdk.json for the reader's app carries every feature flag of this repository's cdk.json."""
    ours = json.loads((ROOT / "cdk.json").read_text())["context"]
    flags = {key: value for key, value in ours.items() if key.startswith("@aws-cdk")}
    shown = docs_kit.readme_cdk_json()
    assert shown["context"] == flags
    assert shown["app"] == "python3 app.py"


def test_every_python_block_parses() -> None:
    for page in PAGES:
        for block in docs_kit.blocks(page):
            ast.parse(block.source, filename=block.where)


# --- what the README says about the toolchain, checked ----------------------------------------------------


def _synth_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synth_report", ROOT / "tools" / "synth_report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_stack_table() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    match = re.search(
        r"<!-- docs-test: synth-stacks -->\n\| stack \| region \|\n\| --- \| --- \|\n((?:\|.*\|\n)+)", text
    )
    assert match, "README.md lists the example stacks after <!-- docs-test: synth-stacks -->"
    return [
        (cells[0].strip("` "), cells[1].strip("` "))
        for cells in (line.strip("|").split("|") for line in match[1].splitlines())
    ]


def test_readme_lists_the_stacks_and_regions_that_make_synth_reports(example_assembly: Path) -> None:
    """The README's list of example stacks is what tools/synth_report.py prints after a real synthesis."""
    reported = [(name, region) for name, region, _resources, _acknowledged in _synth_report().rows(example_assembly)]
    assert readme_stack_table() == sorted(reported)


def test_the_cdk_nag_2_call_fails_as_the_readme_says() -> None:
    """README: with cdk-nag 3, `Aspects.of(app).add(AwsSolutionsChecks())` fails with this message."""
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = new_app(context=cdk_context())
    sqs.Queue(cdk.Stack(app, "Old"), "Queue")
    cdk.Aspects.of(app).add(AwsSolutionsChecks())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"aspectApplication\.aspect\.visit is not a function"):
        app.synth()
    assert "aspectApplication.aspect.visit is not a function" in (ROOT / "README.md").read_text()


def test_without_the_flags_secure_bucket_logs_through_an_acl_as_the_readme_says() -> None:
    """README: without @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy the log bucket takes an ACL."""
    from aws_cdk.assertions import Template

    from blueprints import SecureBucket

    def log_bucket_acls(context: dict[str, Any]) -> list[Any]:
        stack = cdk.Stack(new_app(context=context), "Buckets")
        SecureBucket(stack, "Data")
        resources = Template.from_stack(stack).to_json()["Resources"].values()
        return [r["Properties"].get("AccessControl") for r in resources if r["Type"] == "AWS::S3::Bucket"]

    assert "LogDeliveryWrite" in log_bucket_acls({})
    assert set(log_bucket_acls(docs_kit.readme_cdk_json()["context"])) == {None}


def test_named_zones_still_need_a_lookup_in_a_plain_stack_but_not_in_example_stack(tmp_path: Path) -> None:
    """README: an ec2.Vpc given zone names in an env-specific cdk.Stack still makes CDK look the Region's
    zones up (it checks the names against them); in blueprints.ExampleStack it does not."""
    from aws_cdk import aws_ec2 as ec2

    from blueprints import ExampleStack

    def missing(stack_class: type[cdk.Stack], outdir: Path) -> list[str]:
        app = new_app(context=cdk_context(), outdir=str(outdir))
        stack = stack_class(app, "Zones", env=cdk.Environment(account="111111111111", region="eu-west-1"))
        ec2.Vpc(stack, "Vpc", availability_zones=["eu-west-1a", "eu-west-1b"])
        app.synth()
        return [m["key"] for m in json.loads((outdir / "manifest.json").read_text()).get("missing", [])]

    assert missing(cdk.Stack, tmp_path / "plain") == ["availability-zones:account=111111111111:region=eu-west-1"]
    assert missing(ExampleStack, tmp_path / "example") == []
