"""The backup layout in S3: a timestamped folder per backup, a manifest, and a ``latest`` pointer.

``<prefix>/<timestamp>/<section>.json`` holds the data, ``<prefix>/<timestamp>/manifest.json``
the SHA-256 and record count of each file, and ``<prefix>/latest.json`` (written last) names the
newest complete backup. Cross-Region replication does not preserve write order, so a reader
checks the manifest and falls back to the newest older backup whose files are all present.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

LATEST = "latest.json"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_MAX_FALLBACK = 20


class BackupNotFound(Exception):
    """No complete backup exists under the prefix."""


@dataclass
class Backup:
    folder: str
    manifest: dict[str, Any]


class BackupStore:
    def __init__(self, s3: Any, bucket: str, kms_key_arn: str | None) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.kms_key_arn = kms_key_arn

    def _put(self, key: str, body: bytes) -> None:
        extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_arn:
            extra["SSEKMSKeyId"] = self.kms_key_arn
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", **extra)

    def write_backup(self, prefix: str, stamp: str, sections: dict[str, Any], meta: dict[str, Any]) -> Backup:
        """Write every section, then the manifest, then the ``latest`` pointer."""
        folder = f"{prefix}/{stamp}"
        files = {}
        for name, data in sections.items():
            body = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
            self._put(f"{folder}/{name}.json", body)
            files[name] = {
                "sha256": hashlib.sha256(body).hexdigest(),
                "records": len(data) if isinstance(data, list) else 1,
                "bytes": len(body),
            }
        manifest = {"format": FORMAT_VERSION, "folder": folder, "files": files, **meta}
        manifest_body = json.dumps(manifest, sort_keys=True).encode()
        self._put(f"{folder}/{MANIFEST}", manifest_body)
        pointer = {"folder": folder, "created_at": meta.get("created_at"), "manifest_sha256": _sha(manifest_body)}
        self._put(f"{prefix}/{LATEST}", json.dumps(pointer, sort_keys=True).encode())
        return Backup(folder, manifest)

    def read_json(self, key: str) -> Any:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return json.loads(body)

    def read_section(self, backup_folder: str, name: str, manifest: dict[str, Any]) -> Any:
        body = self.s3.get_object(Bucket=self.bucket, Key=f"{backup_folder}/{name}.json")["Body"].read()
        expected = manifest["files"][name]["sha256"]
        if _sha(body) != expected:
            raise ValueError(f"{backup_folder}/{name}.json does not match its manifest checksum")
        return json.loads(body)

    def _complete(self, folder: str) -> Backup | None:
        from botocore.exceptions import ClientError

        try:
            manifest = self.read_json(f"{folder}/{MANIFEST}")
            for name, info in manifest["files"].items():
                body = self.s3.get_object(Bucket=self.bucket, Key=f"{folder}/{name}.json")["Body"].read()
                if _sha(body) != info["sha256"]:
                    return None
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied"):
                return None
            raise
        return Backup(folder, manifest)

    def resolve(self, prefix: str, folder: str | None = None) -> Backup:
        """The named backup, or the newest complete one (``latest`` first, then older folders)."""
        from botocore.exceptions import ClientError

        if folder:
            backup = self._complete(folder)
            if backup is None:
                raise BackupNotFound(f"backup {folder} in s3://{self.bucket} is incomplete or missing")
            return backup
        try:
            latest = self.read_json(f"{prefix}/{LATEST}")["folder"]
            backup = self._complete(latest)
            if backup is not None:
                return backup
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
        for candidate in self.folders(prefix)[:_MAX_FALLBACK]:
            backup = self._complete(candidate)
            if backup is not None:
                return backup
        raise BackupNotFound(f"no complete backup under s3://{self.bucket}/{prefix}/")

    def folders(self, prefix: str) -> list[str]:
        """Backup folders under ``prefix``, newest first."""
        found: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": f"{prefix}/", "Delimiter": "/"}
        while True:
            page = self.s3.list_objects_v2(**kwargs)
            found.extend(p["Prefix"].rstrip("/") for p in page.get("CommonPrefixes", []))
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        return sorted(found, reverse=True)


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
