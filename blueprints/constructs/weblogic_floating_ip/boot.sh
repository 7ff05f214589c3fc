#!/bin/bash
# WebLogic admin server boot: floating IP, shared domain home, start once the route moved here.
set -euo pipefail

readonly FLOATING_IP="@@FLOATING_IP@@"
readonly FILE_SYSTEM_ID="@@FILE_SYSTEM_ID@@"
readonly MOUNT_POINT=@@MOUNT_POINT@@
readonly MAX_WAIT_SECONDS=@@MAX_WAIT_SECONDS@@
readonly ROUTE_TAG_KEY="@@ROUTE_TAG_KEY@@"
readonly ROUTE_TAG_VALUE="@@ROUTE_TAG_VALUE@@"
readonly IMDS="http://169.254.169.254/latest"

log() {
  echo "weblogic-admin-boot: $*"
}

imds_get() {
  local token
  token="$(curl -sSf --retry 5 --retry-connrefused -X PUT "$IMDS/api/token" \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300")"
  curl -sSf --retry 5 --retry-connrefused -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/$1"
}

# 1. The floating IP on the primary interface, declared to systemd-networkd, which manages that
# interface on Amazon Linux 2023 and removes addresses it did not configure whenever it
# reconfigures the link (amazon-ec2-net-utils' refresh timers reload it). A unit re-checks it at
# every boot, before the admin server starts.
cat > /usr/local/sbin/weblogic-floating-ip <<'FLOATING_IP_SCRIPT'
#!/bin/bash
# Usage: weblogic-floating-ip IPV4. Declares IPV4/32 on the primary interface to systemd-networkd
# and waits until networkd has put it there.
set -euo pipefail
readonly network_dir=/etc/systemd/network
readonly address="$1/32"
iface="$(ip -o -4 route show default | awk '{print $5; exit}')"
if [[ -z "$iface" ]]; then
  echo "weblogic-floating-ip: no IPv4 default route, so no primary interface to put $address on" >&2
  exit 1
fi
# amazon-ec2-net-utils configures the interface with /run/systemd/network/70-<iface>.network, which it
# regenerates at every boot; a drop-in for that name in /etc is merged into it and outlives both.
dropin_dir="$network_dir/70-$iface.network.d"
dropin="$dropin_dir/60-weblogic-floating-ip.conf"
mkdir -p "$dropin_dir"
cat > "$dropin.new" <<DROPIN
# The WebLogic admin server's floating IP (written by weblogic-floating-ip.service).
[Address]
Address=$address
AddPrefixRoute=false
DROPIN
if cmp -s "$dropin.new" "$dropin"; then
  rm -f "$dropin.new"
else
  mv -f "$dropin.new" "$dropin"
  networkctl reload
fi
for _ in $(seq 1 60); do
  if ip -o -4 addr show dev "$iface" | grep -qF " inet $address "; then
    exit 0
  fi
  sleep 1
done
echo "weblogic-floating-ip: systemd-networkd has not put $address on $iface after 60 s" >&2
exit 1
FLOATING_IP_SCRIPT
chmod 0755 /usr/local/sbin/weblogic-floating-ip
cat > /etc/systemd/system/weblogic-floating-ip.service <<FLOATING_IP_UNIT
[Unit]
Description=Floating IP of the WebLogic admin server
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/weblogic-floating-ip $FLOATING_IP

[Install]
WantedBy=multi-user.target
FLOATING_IP_UNIT
systemctl daemon-reload
systemctl enable --now weblogic-floating-ip.service
log "floating IP $FLOATING_IP declared to systemd-networkd and present"

# 2. The domain home on EFS: TLS in transit, IAM authorization, mounted at every boot.
for attempt in 1 2 3 4 5; do
  if dnf install -y amazon-efs-utils; then
    break
  fi
  log "installing amazon-efs-utils failed (attempt $attempt); retrying"
  sleep 15
done
mkdir -p "$MOUNT_POINT"
if ! grep -q "^$FILE_SYSTEM_ID:/ " /etc/fstab; then
  echo "$FILE_SYSTEM_ID:/ $MOUNT_POINT efs _netdev,noresvport,tls,iam 0 0" >> /etc/fstab
fi
for attempt in $(seq 1 30); do
  if mountpoint -q "$MOUNT_POINT" || mount "$MOUNT_POINT"; then
    break
  fi
  log "EFS mount attempt $attempt failed; retrying"
  sleep 10
done
if ! mountpoint -q "$MOUNT_POINT"; then
  log "EFS file system $FILE_SYSTEM_ID is not mounted at $MOUNT_POINT; not starting the admin server"
  exit 1
fi

# 3. Wait until the route mover has moved the floating route here: it then tags this instance.
# (autoscaling/target-lifecycle-state is the state the instance is heading for: InService from
# the start of a launch, so it cannot tell that the route moved; it does tell an abandoned launch.)
state=""
route=""
deadline=$((SECONDS + MAX_WAIT_SECONDS))
while (( SECONDS < deadline )); do
  state="$(imds_get autoscaling/target-lifecycle-state || true)"
  if [[ "$state" == "Terminated" ]]; then
    log "the launch was abandoned; not starting the admin server"
    exit 1
  fi
  route="$(imds_get "tags/instance/$ROUTE_TAG_KEY" || true)"
  if [[ "$route" == "$ROUTE_TAG_VALUE" ]]; then
    break
  fi
  sleep 5
done
if [[ "$route" != "$ROUTE_TAG_VALUE" ]]; then
  log "no $ROUTE_TAG_KEY=$ROUTE_TAG_VALUE tag after $MAX_WAIT_SECONDS s (state: ${state:-unknown}); not starting"
  exit 1
fi
log "the floating route points here; starting the admin server"

# 4. The admin server, as a unit that restarts on failure and after a reboot.
cat > /usr/local/sbin/weblogic-admin-start <<'WEBLOGIC_START_COMMAND'
#!/bin/bash
set -euo pipefail
@@START_COMMAND@@
WEBLOGIC_START_COMMAND
chmod 0755 /usr/local/sbin/weblogic-admin-start
cat > /etc/systemd/system/weblogic-admin.service <<ADMIN_UNIT
[Unit]
Description=WebLogic admin server on $FLOATING_IP
Requires=weblogic-floating-ip.service
After=weblogic-floating-ip.service network-online.target
RequiresMountsFor=$MOUNT_POINT

[Service]
User=@@RUN_AS_USER@@
ExecStart=/usr/local/sbin/weblogic-admin-start
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target
ADMIN_UNIT
systemctl daemon-reload
systemctl enable --now weblogic-admin.service
log "admin server started"
