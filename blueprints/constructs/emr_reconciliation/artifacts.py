"""What the construct ships: the Spark job, and the request contract that the submitter and the job both import.

The contract (``blueprints/contracts/emr_reconciliation_request.py``) is one module with one name,
``emr_reconciliation_request``, wherever it runs: beside ``index.py`` in the submitter's package, and in the zip
that each step passes to ``spark-submit --py-files``. Both packages are assembled here by CDK's local bundling,
which copies files and needs no Docker, and are named for their contents (``AssetHashType.OUTPUT``).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from blueprints.constructs.common import PYTHON_RUNTIME

_PACKAGE_DIR = Path(__file__).resolve().parents[2]
JOBS_DIR = _PACKAGE_DIR / "jobs"
#: The Spark job.
JOB_SCRIPT = JOBS_DIR / "emr_reconciliation" / "reconcile.py"
#: Modules that a handler and a job share; each is a top-level module where it runs.
CONTRACTS_DIR = _PACKAGE_DIR / "contracts"
CONTRACT_MODULE = "emr_reconciliation_request.py"
#: The request contract: the submitter validates each request with it, and the job validates the stored copy again.
CONTRACT = CONTRACTS_DIR / CONTRACT_MODULE
#: What a handler folder holds that its package leaves out (as ``common.handler_code`` leaves it out).
_NOT_SHIPPED = ("__pycache__", "*.pyc", ".mypy_cache")


@jsii.implements(ILocalBundling)
class _CopyFiles:
    """Local bundling that copies a folder's files (if any) and then ``modules`` into the asset."""

    def __init__(self, folder: Path | None, modules: Sequence[Path]) -> None:
        self.folder = folder
        self.modules = tuple(modules)

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: object) -> bool:
        out = Path(output_dir)
        if self.folder is not None:
            shutil.copytree(self.folder, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_NOT_SHIPPED))
        for module in self.modules:
            shutil.copyfile(module, out / module.name)
        return True


def _bundling(folder: Path | None, modules: Sequence[Path]) -> BundlingOptions:
    # CDK runs the image only when local bundling declines, which _CopyFiles never does.
    return BundlingOptions(image=PYTHON_RUNTIME.bundling_image, local=_CopyFiles(folder, modules))


def code_with_contract(folder: Path) -> lambda_.Code:
    """The Lambda package of the handler ``folder``, with the contract beside its ``index.py``."""
    return lambda_.Code.from_asset(
        str(folder), asset_hash_type=AssetHashType.OUTPUT, bundling=_bundling(folder, [CONTRACT])
    )


def create_job_artifacts(scope: Construct, job_script: Path) -> tuple[s3_assets.Asset, s3_assets.Asset]:
    """The job script as a file asset, and the contract module alone in a zip for ``--py-files`` (Spark puts the
    zip on the job's ``PYTHONPATH``)."""
    script = s3_assets.Asset(scope, "JobScript", path=str(job_script))
    modules = s3_assets.Asset(
        scope,
        "JobModules",
        path=str(CONTRACTS_DIR),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=_bundling(None, [CONTRACT]),
    )
    return script, modules
