#!/usr/bin/env bash
# `make demo`, the main job so far:
#   1. make a base image from this machine (no registry), show it the way docker would, and export
#      it to an OCI image layout that skopeo reads;
#   2. run busybox httpd in a container on a host port: ps, logs, stats, stop;
#   3. build a small web app (multi-stage Dockerfile in examples/webapp), run it, curl it.
#
# It works in a fresh temporary data root and state dir (removed on exit) unless DOCKYARD_ROOT is
# set, so it never touches the machine's real image store and every run starts from the same state.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

work=$(mktemp -d /tmp/dockyard-demo.XXXXXX)
if [ -z "${DOCKYARD_ROOT:-}" ]; then
    export DOCKYARD_ROOT="$work/root"
    export DOCKYARD_STATE="$work/state"
fi
cleanup() {
    dockyard rm -f demo-web demo-app >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
layout="${DOCKYARD_ROOT}/demo-layout"

step() {  # echo the command (quoting what needs it), then run it
    local shown=() arg
    for arg in "$@"; do
        if [[ $arg =~ ^[A-Za-z0-9_./:=@%+-]+$ ]]; then shown+=("$arg"); else shown+=("'$arg'"); fi
    done
    printf '\n\033[1m$ %s\033[0m\n' "${shown[*]}"
    "$@"
}

step dockyard image bootstrap busybox
step dockyard images
step dockyard image inspect --format '{{.Id}} {{json .Config}}' busybox
step dockyard image history busybox
step dockyard image save busybox -o "$layout"
step skopeo inspect --format '{{.Digest}} {{.Os}}/{{.Architecture}} layers={{len .Layers}}' "oci:$layout:latest"

ours=$(dockyard image inspect --format '{{.Descriptor.digest}}' busybox)
theirs=$(skopeo inspect --format '{{.Digest}}' "oci:$layout:latest")
if [ "$ours" != "$theirs" ]; then
    echo "demo FAILED: skopeo sees $theirs, dockyard wrote $ours" >&2
    exit 1
fi

# 2. A container serving HTTP on a host port (host network until the bridge lands in the engine).
port=$(free_port)
step dockyard run -d --name demo-web --network host --memory 64m busybox \
    sh -c "mkdir -p /www && echo '<h1>hello from a dockyard container</h1>' > /www/index.html && exec httpd -f -v -p 127.0.0.1:$port -h /www"
wait_http "http://127.0.0.1:$port/"
step curl -fsS "http://127.0.0.1:$port/"
step dockyard ps
step dockyard logs demo-web
step dockyard stats --no-stream demo-web
step dockyard stop -t 2 demo-web
step dockyard rm demo-web

# 3. Build the web app with a multi-stage Dockerfile, run it, curl the page and the CGI script.
step dockyard build -t webapp examples/webapp
port=$(free_port)
step dockyard run -d --name demo-app --network host -e PORT="$port" webapp
wait_http "http://127.0.0.1:$port/"
step curl -fsS "http://127.0.0.1:$port/"
step curl -fsS "http://127.0.0.1:$port/cgi-bin/hello?demo"
curl -fsS "http://127.0.0.1:$port/cgi-bin/hello?demo" | grep -q "hello, demo" || { echo "demo FAILED: CGI did not answer" >&2; exit 1; }
step dockyard rm -f demo-app

printf '\ndemo OK: busybox bootstrapped and exported (%s), served HTTP from a container, built and ran a web app\n' "$ours"
