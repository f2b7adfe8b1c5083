#!/bin/bash
# EC2 user data (Amazon Linux 2023, or a systemd Linux with the AWS CLI, curl and xz; x86_64 or arm64) for one kcl-ts
# worker per instance. Put it in the launch template of the Auto Scaling group and set the
# variables below. The instance profile needs iam-policy.json (plus s3:GetObject on the
# artifact, and autoscaling:CompleteLifecycleAction if you use the lifecycle hook).
set -euo pipefail

STREAM_NAME="orders"                     # the Kinesis stream
APPLICATION_NAME="orders-billing"        # = the lease table's name
ARTIFACT="s3://my-artifacts/kcl-consumer.tgz"   # the repository root after install and build, tarred (see README)
NODE_VERSION="22.12.0"                  # a Node 22 or 24 LTS release (Node 20 is end-of-life): pin the newest
ASG_NAME=""                              # set both to complete the scale-in lifecycle hook
LIFECYCLE_HOOK_NAME=""                   # (see lifecycle-hook.md)

# Region from the instance metadata (IMDSv2): the AWS SDK for JavaScript v3 takes it from
# AWS_REGION or ~/.aws/config, not from the instance metadata.
TOKEN=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
REGION=$(curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region)

# Node.js from nodejs.org (pinned).
case "$(uname -m)" in x86_64) ARCH=x64 ;; aarch64) ARCH=arm64 ;; *) echo "unsupported arch"; exit 1 ;; esac
curl -sfL "https://nodejs.org/dist/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-${ARCH}.tar.xz" | tar -xJ -C /usr/local --strip-components=1

# The application.
id kcl >/dev/null 2>&1 || useradd --system --home-dir /opt/kcl-consumer --shell /sbin/nologin kcl
mkdir -p /opt/kcl-consumer /var/log/kcl-consumer
aws s3 cp "$ARTIFACT" /tmp/kcl-consumer.tgz
tar -xzf /tmp/kcl-consumer.tgz -C /opt/kcl-consumer
chown -R kcl:kcl /opt/kcl-consumer /var/log/kcl-consumer

cat > /etc/kcl-consumer.env <<ENV
AWS_REGION=$REGION
KCL_STREAM=$STREAM_NAME
KCL_APP=$APPLICATION_NAME
LOG_LEVEL=info
ASG_NAME=$ASG_NAME
LIFECYCLE_HOOK_NAME=$LIFECYCLE_HOOK_NAME
ENV

D=/opt/kcl-consumer/examples/ec2-fleet/deploy
install -m 0644 "$D/kcl-consumer.service" /etc/systemd/system/kcl-consumer.service
install -m 0644 "$D/kcl-drain-watch.service" /etc/systemd/system/kcl-drain-watch.service
systemctl daemon-reload
systemctl enable --now kcl-consumer.service kcl-drain-watch.service
