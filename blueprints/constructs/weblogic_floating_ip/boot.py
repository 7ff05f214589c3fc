"""The admin instance's user data: ``boot.sh`` with its ``@@NAME@@`` placeholders filled."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from aws_cdk import Duration

from blueprints.constructs.weblogic_floating_ip.options import (
    DEFAULT_DOMAIN_START_SCRIPT,
    ROUTE_TAG_KEY,
    ROUTE_TAG_VALUE,
)

#: The admin instance's boot script, with ``@@NAME@@`` placeholders (a real bash file, so
#: shellcheck and editors see it as it runs); shipped in the wheel as package data.
BOOT_SCRIPT_TEMPLATE = Path(__file__).with_name("boot.sh")
_PLACEHOLDER_RE = re.compile(r"@@([A-Z][A-Z0-9_]*)@@")


def render_user_data(
    *,
    floating_ip: str,
    file_system_id: str,
    mount_point: str,
    start_command: str,
    run_as_user: str,
    max_wait_seconds: int,
    route_tag_key: str = ROUTE_TAG_KEY,
    route_tag_value: str = ROUTE_TAG_VALUE,
) -> str:
    """The admin instance's boot script.

    1. Declares the floating IP to systemd-networkd with a drop-in for the primary
       interface's network file (``/etc/systemd/network/70-<iface>.network.d/``), so
       that networkd keeps it when it reconfigures the link, and checks from a
       systemd unit at every boot that it is on the interface.
    2. Mounts the EFS file system over TLS with IAM authorization (fstab, so it
       is mounted on every boot), retrying while the mount target's DNS name
       propagates.
    3. Polls the instance tag ``route_tag_key`` in instance metadata (IMDSv2)
       until it reads ``route_tag_value``: the route mover sets it only after
       every route points at this instance, before it completes the lifecycle
       action. ``autoscaling/target-lifecycle-state`` cannot serve here: it is
       the state the instance is heading for, ``InService`` from the start of
       a launch. It is still read, to give up at ``Terminated`` (an abandoned
       launch); the script also gives up when the wait outlives the hook.
    4. Enables and starts the admin server unit, which runs ``start_command``
       as ``run_as_user`` and restarts it on failure and after a reboot.
    """
    return render_boot_template(
        BOOT_SCRIPT_TEMPLATE.read_text(encoding="utf-8"),
        {
            "FLOATING_IP": floating_ip,
            "FILE_SYSTEM_ID": file_system_id,
            "MOUNT_POINT": shlex.quote(mount_point),
            "MAX_WAIT_SECONDS": str(max_wait_seconds),
            "ROUTE_TAG_KEY": route_tag_key,
            "ROUTE_TAG_VALUE": route_tag_value,
            "START_COMMAND": start_command,
            "RUN_AS_USER": run_as_user,
        },
    )


def render_boot_template(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``@@NAME@@`` replaced by ``values[NAME]``.

    Every placeholder must have a value and every value a placeholder, so a renamed one
    fails here rather than shipping a literal ``@@NAME@@`` to the instance. Values are
    inserted as they are, in one pass (a value that itself holds ``@@...@@`` is not expanded).
    """
    names = set(_PLACEHOLDER_RE.findall(template))
    if names != set(values):
        raise ValueError(
            f"the boot script template's placeholders {sorted(names)} do not match the values given {sorted(values)}"
        )
    return _PLACEHOLDER_RE.sub(lambda match: values[match.group(1)], template)


def admin_boot_script(
    *,
    floating_ip: str,
    file_system_id: str,
    mount_point: str,
    start_command: str | None,
    run_as_user: str,
    heartbeat_timeout: Duration,
) -> str:
    """:func:`render_user_data` as the construct fills it: the post's start script under ``mount_point`` unless
    ``start_command`` is given, and a wait for the route mover's tag that outlasts two heartbeat timeouts."""
    return render_user_data(
        floating_ip=floating_ip,
        file_system_id=file_system_id,
        mount_point=mount_point,
        start_command=start_command or f"{mount_point}/{DEFAULT_DOMAIN_START_SCRIPT}",
        run_as_user=run_as_user,
        # Heartbeats from retried invocations extend the hook's timeout: wait for two.
        max_wait_seconds=2 * int(heartbeat_timeout.to_seconds()) + 120,
        route_tag_key=ROUTE_TAG_KEY,
        route_tag_value=ROUTE_TAG_VALUE,
    )
