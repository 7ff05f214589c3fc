"""The reusable L3 constructs, one module per architecture, plus the shared blocks."""

from blueprints.constructs.common import (
    BucketEncryption,
    PythonHandler,
    SecureBucket,
    acknowledge,
)

__all__ = ["BucketEncryption", "PythonHandler", "SecureBucket", "acknowledge"]
