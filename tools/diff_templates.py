"""``make diff``: ``cdk diff --template`` of every example stack against its committed snapshot.

The snapshots under tests/stacks/__snapshots__ hold each template with asset
hashes masked, so the freshly synthesized assembly is copied with the same
masking before ``cdk diff`` compares them. Exits non-zero when any stack drifted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.snapshot_kit import mask_template, snapshot_path  # noqa: E402


def main(outdir: str = "cdk.out") -> int:
    source = ROOT / outdir
    masked = ROOT / "cdk.out.masked"
    shutil.rmtree(masked, ignore_errors=True)
    shutil.copytree(source, masked)
    manifest = json.loads((masked / "manifest.json").read_text())
    drifted: list[str] = []
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        name = artifact.get("displayName")
        template_file = masked / artifact["properties"]["templateFile"]
        template_file.write_text(json.dumps(mask_template(json.loads(template_file.read_text())), indent=1))
        committed = snapshot_path(name)
        if not committed.exists():
            print(f"{name}: no committed snapshot at {committed.relative_to(ROOT)}; run pytest --snapshot-update")
            drifted.append(name)
            continue
        result = subprocess.run(
            ["cdk", "diff", name, "--app", str(masked), "--template", str(committed), "--fail", "--no-notices"],
            cwd=ROOT,
            check=False,
        )
        if result.returncode != 0:
            drifted.append(name)
    shutil.rmtree(masked, ignore_errors=True)
    if drifted:
        print(f"drift in: {', '.join(drifted)}")
        return 1
    print("no drift: every example stack matches its committed template")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
