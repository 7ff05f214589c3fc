#!/usr/bin/env python3
"""CDK app: one example deployment per architecture; synthesizes with no AWS account."""

import sys

from blueprints.example_app import build_example_app, new_app

app = new_app()
try:
    build_example_app(app)
except ValueError as error:
    print(f"blueprints: {error}", file=sys.stderr)
    sys.exit(2)
app.synth()
