#!/usr/bin/env python3
"""CDK app: one example deployment per architecture; synthesizes with no AWS account."""

import sys

import aws_cdk as cdk

from blueprints.example_app import build_example_app

app = cdk.App()
try:
    build_example_app(app)
except ValueError as error:
    print(f"blueprints: {error}", file=sys.stderr)
    sys.exit(2)
app.synth()
