"""Rootless containers: the user namespace maps the caller's uid (and its subordinate ranges).

Without root, the runtime creates a user namespace in which the caller is root; ``/etc/subuid``
and ``/etc/subgid`` ranges, when present, would need newuidmap to apply, so we map only the
caller's own ids — enough for images whose files belong to root, as busybox's do.
"""

from __future__ import annotations

import os


def id_maps() -> tuple[list[dict], list[dict]]:
    uid, gid = os.geteuid(), os.getegid()
    return ([{"containerID": 0, "hostID": uid, "size": 1}], [{"containerID": 0, "hostID": gid, "size": 1}])
