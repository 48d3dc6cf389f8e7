#!/usr/bin/env bash
# `make demo`, the main job at this stage: make a base image from this machine (no registry),
# show it the way docker would, and export it to an OCI image layout that skopeo reads.
#
# It works in a fresh temporary data root (removed on exit) unless DOCKYARD_ROOT is set, so it
# never touches the machine's real image store and every run starts from the same state.
# Set DOCKYARD_ROOT=/somewhere to keep the image and the layout afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

work=$(mktemp -d /tmp/dockyard-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -z "${DOCKYARD_ROOT:-}" ]; then
    export DOCKYARD_ROOT="$work/root"
fi
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
printf '\ndemo OK: busybox bootstrapped, listed, and exported to an OCI layout skopeo reads (%s)\n' "$ours"
