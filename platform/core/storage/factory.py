"""Choose the object store from the settings: S3 when an endpoint is configured, else the
local folder. The one module that knows both implementations."""

from __future__ import annotations

from pathlib import Path

from . import S3_PARALLEL_UPLOADS, S3_PART_SIZE, ObjectStore
from .local import LocalStore
from .s3 import S3Store


def make_store(
    *,
    s3_endpoint: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_bucket: str | None,
    s3_region: str | None,
    s3_public_endpoint: str | None,
    local_root: Path | str | None,
    s3_part_size_mib: int = S3_PART_SIZE // (1024 * 1024),
    s3_parallel_uploads: int = S3_PARALLEL_UPLOADS,
) -> ObjectStore:
    """S3 when ``s3_endpoint`` is set (non-empty), else the local folder. No network I/O."""
    if s3_endpoint:
        if not s3_bucket:
            raise ValueError("S3_BUCKET must be set when S3_ENDPOINT is")
        return S3Store(
            s3_endpoint,
            s3_access_key or "",
            s3_secret_key or "",
            s3_bucket,
            region=s3_region or "us-east-1",
            public_endpoint=s3_public_endpoint or None,
            part_size=s3_part_size_mib * 1024 * 1024,
            parallel_uploads=s3_parallel_uploads,
        )
    if not local_root:
        raise ValueError("either S3_ENDPOINT or a local object folder is required")
    return LocalStore(Path(local_root))
