"""Every Python block in README.md and docs/*.md runs, as a reader would run it (see tests/docs_kit.py).

Each page's blocks run in one namespace, in order; then every App they made is
synthesized with the AwsSolutions and Serverless packs, with the feature flags
of the ``cdk.json`` that the README shows. A page fails on an exception, an
unacknowledged nag finding, an error annotation, or a lookup that ``cdk synth``
would need AWS credentials for.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests import docs_kit
from tests.docs_kit import PAGES, ROOT


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_synthesize_nag_clean_offline(page: Path, tmp_path: Path) -> None:
    problems = docs_kit.run_page(page, tmp_path)
    assert problems == [], "\n".join(problems)


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
