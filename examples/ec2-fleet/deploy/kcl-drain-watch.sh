#!/bin/bash
# Stops the kcl-ts worker gracefully BEFORE the instance goes away, and tells Auto Scaling
# when it is done. Polls the instance metadata (IMDSv2) every 5 s for:
#   - a Spot interruption notice   (meta-data/spot/instance-action: 2 minutes of warning)
#   - an Auto Scaling scale-in     (meta-data/autoscaling/target-lifecycle-state = Terminated)
# then runs `systemctl stop kcl-consumer` (SIGTERM → worker.shutdown(): checkpoint, release
# leases) and, if LIFECYCLE_HOOK_NAME is set, completes the lifecycle action so the
# termination proceeds without waiting for the hook's heartbeat timeout.
set -u
IMDS=http://169.254.169.254/latest
# shellcheck disable=SC1091
[ -r /etc/kcl-consumer.env ] && . /etc/kcl-consumer.env

token() { curl -sf -X PUT "$IMDS/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'; }
meta() { curl -sf -H "X-aws-ec2-metadata-token: $(token)" "$IMDS/meta-data/$1"; }

while sleep 5; do
  reason=""
  if meta spot/instance-action >/dev/null; then reason="spot interruption notice"; fi
  if [ "$(meta autoscaling/target-lifecycle-state || true)" = "Terminated" ]; then reason="auto scaling scale-in"; fi
  [ -z "$reason" ] && continue

  logger -t kcl-drain-watch "$reason: stopping kcl-consumer"
  systemctl stop kcl-consumer.service   # returns once the worker exited (≤ TimeoutStopSec)

  if [ -n "${LIFECYCLE_HOOK_NAME:-}" ] && [ -n "${ASG_NAME:-}" ]; then
    aws autoscaling complete-lifecycle-action \
      --region "$AWS_REGION" \
      --auto-scaling-group-name "$ASG_NAME" \
      --lifecycle-hook-name "$LIFECYCLE_HOOK_NAME" \
      --instance-id "$(meta instance-id)" \
      --lifecycle-action-result CONTINUE \
      && logger -t kcl-drain-watch "lifecycle action completed"
  fi
  exit 0
done
