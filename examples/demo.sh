#!/usr/bin/env bash
# `make demo`, the main job so far:
#   1. make a base image from this machine (no registry), show it the way docker would, and export
#      it to an OCI image layout that skopeo reads;
#   2. run busybox httpd in a container on the bridge network, published on a host port: ps,
#      logs, stats, stop;
#   3. build a small web app (multi-stage Dockerfile in examples/webapp), run it, curl it.
# Its bridge, nft table and DNS server are the demo's own (DOCKYARD_NET_*), removed on exit.
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
export DOCKYARD_NET_INSTANCE=dydemo DOCKYARD_NET_BRIDGE=dydemo0
# a /24 no route on this machine uses (a real dockyard0 may hold the default 10.88.0.0/16)
DOCKYARD_NET_SUBNET=$(python3 - <<'PY'
import ipaddress, subprocess
routes = [ipaddress.ip_network(line.split()[0]) for line in subprocess.run(
    ["ip", "-4", "route"], capture_output=True, text=True).stdout.splitlines() if line[:1].isdigit()]
print(next(str(n) for n in ipaddress.ip_network("10.213.0.0/16").subnets(new_prefix=24)
           if not any(n.overlaps(r) for r in routes)))
PY
)
export DOCKYARD_NET_SUBNET
cleanup() {
    dockyard rm -f demo-web demo-app >/dev/null 2>&1 || true
    # the demo's network, as `docker network rm` cannot remove the predefined bridge
    python -c 'from dockyard.net import Net, NetConfig; n = Net(NetConfig.default(instance="dydemo", default_bridge="dydemo0")); n.purge(); n.close()' || true
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

# 2. A container on the bridge network, its port 80 published on a free loopback port.
port=$(free_port)
step dockyard run -d --name demo-web -p "127.0.0.1:$port:80" --memory 64m busybox \
    sh -c "mkdir -p /www && echo '<h1>hello from a dockyard container</h1>' > /www/index.html && exec httpd -f -v -p 80 -h /www"
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
step dockyard run -d --name demo-app --network host -e PORT="$port" webapp  # its CMD binds 127.0.0.1
wait_http "http://127.0.0.1:$port/"
step curl -fsS "http://127.0.0.1:$port/"
step curl -fsS "http://127.0.0.1:$port/cgi-bin/hello?demo"
curl -fsS "http://127.0.0.1:$port/cgi-bin/hello?demo" | grep -q "hello, demo" || { echo "demo FAILED: CGI did not answer" >&2; exit 1; }
step dockyard rm -f demo-app

printf '\ndemo OK: busybox bootstrapped and exported (%s), served HTTP from a container, built and ran a web app\n' "$ours"
