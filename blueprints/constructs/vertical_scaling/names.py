"""Names the construct shares with its handlers and with its users: tags, events and metrics."""

from __future__ import annotations

#: Tag that marks images, snapshots and instances this construct created.
MARK_TAG_KEY = "blueprints:vertical-scaling"
EVENT_SOURCE = "blueprints.vertical-scaling"
EVENT_DETAIL_TYPE = "EC2 Instance Resize"
#: Powertools' ``service`` dimension of the handlers' metrics.
METRIC_SERVICE = "vertical_scaling"
#: The ``Outcome`` dimension's values (the report handler's ``OUTCOMES``).
OUTCOMES = ("resized", "noop", "skipped", "refused", "dry-run", "reverted", "failed")
#: Who invokes the handlers (each is a synchronous step of the state machine).
SYNC_CALLER = "the VerticalScaling state machine"
