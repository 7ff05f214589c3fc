"""The example app's settings: defaults, precedence, and a clear error for every bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from blueprints.config import ExampleConfig, known_regions, load_config
from tests.conftest import cdk_context

ROOT = Path(__file__).resolve().parent.parent


def _config(**context: str) -> ExampleConfig:
    return load_config(cdk.App(context=cdk_context(**context)))


def test_defaults_come_from_cdk_json() -> None:
    assert _config() == ExampleConfig(
        account="111111111111",
        region="us-east-1",
        dr_region="us-west-2",
        visualization_account="222222222222",
        mwaa_dr_strategy="active_passive",
    )


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "333333333333")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-central-1")
    config = _config()
    assert (config.account, config.region) == ("333333333333", "eu-central-1")


def test_context_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "333333333333")
    config = _config(account="444444444444", region="ap-southeast-2", dr_region="ap-southeast-4")
    assert (config.account, config.region, config.dr_region) == ("444444444444", "ap-southeast-2", "ap-southeast-4")


def test_account_must_have_twelve_digits() -> None:
    with pytest.raises(ValueError, match=r"context key 'account' \(or CDK_DEFAULT_ACCOUNT\) must be a 12-digit"):
        _config(account="1234")


def test_visualization_account_must_have_twelve_digits() -> None:
    with pytest.raises(ValueError, match="context key 'visualization_account' must be a 12-digit.*'abc'"):
        _config(visualization_account="abc")


def test_region_must_be_known() -> None:
    with pytest.raises(ValueError, match=r"context key 'region' \(or CDK_DEFAULT_REGION\) must be an AWS Region"):
        _config(region="mars-north-1")


def test_dr_region_must_be_known() -> None:
    with pytest.raises(ValueError, match="context key 'dr_region' must be an AWS Region.*'us-weird-9'"):
        _config(dr_region="us-weird-9")


def test_dr_region_must_differ() -> None:
    with pytest.raises(ValueError, match="'dr_region' must differ from 'region'"):
        _config(dr_region="us-east-1")


def test_strategy_must_be_known() -> None:
    with pytest.raises(ValueError, match="'mwaa_dr_strategy' must be one of active_passive, backup_restore"):
        _config(mwaa_dr_strategy="pilot_light")


def test_app_stops_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={
            "PATH": f"{ROOT / 'node_modules' / '.bin'}:/usr/bin:/bin",
            "CDK_CONTEXT_JSON": '{"account": "12"}',
            "CDK_OUTDIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "blueprints: context key 'account' (or CDK_DEFAULT_ACCOUNT) must be a 12-digit" in result.stderr
    assert "Traceback" not in result.stderr


def test_known_regions_cover_every_partition() -> None:
    regions = known_regions()
    assert {"us-east-1", "eu-central-1", "ap-southeast-4", "cn-north-1", "us-gov-west-1"} <= regions
    assert "mars-north-1" not in regions
