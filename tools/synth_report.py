"""Print the table that ends ``make synth``: stack, Region, resources, acknowledged nag findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def acknowledged_rules(metadata: dict[str, list[dict]]) -> list[str]:
    found: list[str] = []
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:acknowledged-rules":
                found.extend(f"{path}: {rule}" for rule in entry.get("data", {}))
    return found


def rows(outdir: Path) -> list[tuple[str, str, int, int]]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    table = []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact["properties"]
        template = json.loads((outdir / props["templateFile"]).read_text())
        metadata = dict(artifact.get("metadata") or {})
        extra = artifact.get("additionalMetadataFile")
        if extra:
            metadata.update(json.loads((outdir / extra).read_text()))
        region = artifact.get("environment", "aws://unknown/unknown").rsplit("/", 1)[-1]
        table.append(
            (
                artifact.get("displayName", name),
                region,
                len(template.get("Resources", {})),
                len(acknowledged_rules(metadata)),
            )
        )
    return table


def main(outdir: str = "cdk.out") -> int:
    table = rows(Path(outdir))
    if not table:
        print("the example app has no stacks yet")
        return 0
    header = ("stack", "region", "resources", "acknowledged nag findings")
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in table:
        print(line.format(*row))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
