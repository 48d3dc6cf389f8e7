#!/usr/bin/env bash
# Run a web server in a container: busybox httpd on a host port, then ps, logs, stats, stop.
# Usage: examples/demo-run.sh   (as root; uses .venv/bin/dockyard, or DOCKYARD=... to override)
set -euo pipefail
DOCKYARD=${DOCKYARD:-$(dirname "$0")/../.venv/bin/dockyard}
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
NAME=demo-web-$$

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

"$DOCKYARD" images | grep -q '^busybox ' || step "$DOCKYARD" image bootstrap busybox
trap '"$DOCKYARD" rm -f "$NAME" >/dev/null 2>&1 || true' EXIT

step "$DOCKYARD" run -d --name "$NAME" --network host --memory 64m busybox \
    sh -c "mkdir -p /www && echo '<h1>hello from dockyard</h1>' > /www/index.html && exec httpd -f -v -p 127.0.0.1:$PORT -h /www"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/" 2>/dev/null | grep -q dockyard && break; sleep 0.1; done
step curl -fsS "http://127.0.0.1:$PORT/"
step "$DOCKYARD" ps
step "$DOCKYARD" logs "$NAME"
step "$DOCKYARD" stats --no-stream "$NAME"
step "$DOCKYARD" stop -t 2 "$NAME"
step "$DOCKYARD" ps -a
step "$DOCKYARD" rm "$NAME"
