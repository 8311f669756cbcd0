#!/bin/sh
# Install the servers that tests/services.py starts for each test session (Redis and RabbitMQ), and bubblewrap,
# the sandbox every project task runs in (agent/sandbox.py). PostgreSQL 15 is already on the image. Nothing is
# started here: the tests run their own servers.
set -eu

if command -v redis-server >/dev/null 2>&1 && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v bwrap >/dev/null 2>&1; then
    exit 0  # already installed: skip the slow `apt-get update`
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# Debian's postinst scripts start freshly installed services unless policy-rc.d forbids it (exit 101).
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    trap '$SUDO rm -f "$POLICY"' EXIT
fi

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server rabbitmq-server bubblewrap >/dev/null
