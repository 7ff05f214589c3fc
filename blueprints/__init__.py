"""blueprints: AWS CDK constructs for architectures published on the AWS blogs.

Every construct and example stack is re-exported here::

    from blueprints import SecureBucket, PythonHandler
"""

from blueprints.constructs import BucketEncryption, PythonHandler, SecureBucket, acknowledge

__version__ = "0.1.0"

__all__ = ["BucketEncryption", "PythonHandler", "SecureBucket", "acknowledge"]
