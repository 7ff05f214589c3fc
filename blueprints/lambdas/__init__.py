"""Lambda handler folders: ``<name>/index.py:handler``, each shipped as its own asset.

The folders are not Python packages: in Lambda each folder is the root of its
own zip, so a handler imports its sibling modules absolutely. Tests load a
handler with ``tests.handler_kit.load_handler(name)``.
"""
