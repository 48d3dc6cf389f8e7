"""Writing a container's OCI bundle: ``<data root>/containers/<id>/`` with ``config.json``.

The bundle holds what the runtime needs (``config.json``, the mounted ``rootfs``) and the files
the engine bind-mounts in (``hostname``, ``hosts``, ``resolv.conf``); the json-file log sits next
to them, as docker keeps it.
"""

from __future__ import annotations

import json
import os

from dockyard.engine.spec import SpecContext, build_spec


def cgroups_path(cid: str) -> str | None:
    """``/dockyard-<id>``, flat under each controller's root.

    Flat rather than docker's nested ``/docker/<id>``: on this kernel's v1 hierarchies runc needs
    ~150 ms more to set up and tear down a nested group, on every container start.  Rootless
    engines cannot create cgroups without a delegated subtree, so they get none.
    """
    return f"/dockyard-{cid}" if os.geteuid() == 0 else None


def write(engine, rec, image_config: dict, join_ns: dict[str, str]) -> dict:
    from dockyard.engine import rootless, userns

    ctx = SpecContext(cid=rec.id, name=rec.name, rootfs=engine.bundle(rec.id) / "rootfs",
                      etc_files=engine.write_etc(rec), join_ns=join_ns, cgroups_path=cgroups_path(rec.id))
    rootfs = engine.bundle(rec.id) / "rootfs"
    if rootfs.is_symlink():  # runtimes refuse a symlinked rootfs: name the directory itself
        ctx.root_path = os.readlink(rootfs)
    if os.geteuid() != 0:
        ctx.rootless = True
        ctx.uid_map, ctx.gid_map = rootless.id_maps()
    elif userns.wanted(rec.options.userns):
        base = userns.lookup(engine.data_root, rec.id)
        if base is not None:
            ctx.remapped = True
            ctx.uid_map, ctx.gid_map = userns.id_maps(base)
            for path in ctx.etc_files.values():  # root's inside, like the rest of its rootfs
                os.chown(path, base, base)
    spec = build_spec(image_config, rec.options, ctx)
    # No fsync: a bundle means something only while its rootfs is mounted, which a power loss
    # undoes anyway; an fsync here would cost a good part of a container start.
    (engine.bundle(rec.id) / "config.json").write_text(json.dumps(spec))
    return spec
