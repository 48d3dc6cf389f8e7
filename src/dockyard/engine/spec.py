"""The bundle's ``config.json``: image config + run options + Docker's defaults → OCI runtime spec.

Precedence, as Docker's: run options over the image config over defaults.  Command: ``--entrypoint``
replaces the image's Entrypoint *and* drops its Cmd; arguments after the image replace Cmd.
Environment: image Env, then ``-e``/``--env-file``, later keys winning.  User names resolve through
the container's own /etc/passwd and /etc/group.
"""

from __future__ import annotations

from pathlib import Path

from dockyard.base.errors import InvalidArgument
from dockyard.base.record import Mutable
from dockyard.engine import defaults, seccomp
from dockyard.engine.options import RunOptions, merge_env, parse_volume

SPEC_VERSION = "1.0.2"


class SpecContext(Mutable):
    """Facts about this container that are not options: ids, paths, pod namespaces, rootless."""

    _fields = ("cid", "name", "rootfs", "etc_files", "join_ns", "cgroups_path", "rootless", "remapped",
               "root_path", "uid_map", "gid_map")
    __slots__ = _fields

    def __init__(self, cid: str, name: str, rootfs: Path, etc_files: dict[str, str] | None = None,
                 join_ns: dict[str, str] | None = None, cgroups_path: str | None = None, rootless: bool = False,
                 remapped: bool = False, root_path: str = "rootfs", uid_map: list[dict] | None = None,
                 gid_map: list[dict] | None = None) -> None:
        self.cid = cid
        self.name = name
        self.rootfs = rootfs                # the mounted rootfs, to resolve users
        self.etc_files: dict[str, str] = {} if etc_files is None else etc_files  # /etc/hosts etc. → host file
        self.join_ns: dict[str, str] = {} if join_ns is None else join_ns  # namespace type → path to join
        self.cgroups_path = cgroups_path
        self.rootless = rootless
        self.remapped = remapped            # root engine, --userns private: a user namespace of its own
        self.root_path = root_path          # relative to the bundle, or absolute (rootless copies)
        self.uid_map: list[dict] = [] if uid_map is None else uid_map
        self.gid_map: list[dict] = [] if gid_map is None else gid_map


def build_spec(image_config: dict, opts: RunOptions, ctx: SpecContext) -> dict:
    cfg = image_config.get("config") or {}
    caps = capabilities(opts)
    process = {
        "terminal": opts.tty,
        "user": resolve_user(opts.user or cfg.get("User") or "", ctx.rootfs),
        "args": command(cfg, opts),
        "env": environment(cfg, opts),
        "cwd": opts.workdir or cfg.get("WorkingDir") or "/",
        "capabilities": {k: sorted(caps) for k in ("bounding", "effective", "permitted")},
        "rlimits": defaults.rlimits(),
        "noNewPrivileges": no_new_privileges(opts),
    }
    if not process["cwd"].startswith("/"):
        raise InvalidArgument(f"-w {process['cwd']!r}: the working directory must be an absolute path")
    linux: dict = {
        "namespaces": namespaces(opts, ctx),
        "maskedPaths": list(defaults.MASKED_PATHS),
        "readonlyPaths": list(defaults.READONLY_PATHS),
        "resources": resources(opts, rootless=ctx.rootless),
    }
    if ctx.cgroups_path:
        linux["cgroupsPath"] = ctx.cgroups_path
    if ctx.rootless:
        linux["uidMappings"], linux["gidMappings"] = ctx.uid_map, ctx.gid_map
        linux["resources"].pop("devices", None)
    elif ctx.remapped:
        linux["uidMappings"], linux["gidMappings"] = ctx.uid_map, ctx.gid_map
    profile = seccomp_profile(opts)
    if profile is not None:
        linux["seccomp"] = seccomp.to_oci(profile, caps)
    spec = {
        "ociVersion": SPEC_VERSION,
        "process": process,
        "root": {"path": ctx.root_path, "readonly": opts.read_only},
        "hostname": hostname(opts, ctx),
        "mounts": mounts(opts, ctx),
        "linux": linux,
        "annotations": {"io.dockyard.container.id": ctx.cid, "io.dockyard.container.name": ctx.name,
                        **opts.labels},
    }
    if opts.network == "host" or "uts" in ctx.join_ns:
        spec.pop("hostname")
    return spec


def command(cfg: dict, opts: RunOptions) -> list[str]:
    if opts.entrypoint is not None:
        entry = list(opts.entrypoint)
        cmd = list(opts.command or [])
    else:
        entry = list(cfg.get("Entrypoint") or [])
        cmd = list(opts.command) if opts.command else list(cfg.get("Cmd") or [])
    args = entry + cmd
    if not args:
        raise InvalidArgument(f"image {opts.image!r}: no command specified; give one after the image name")
    return args


def environment(cfg: dict, opts: RunOptions) -> list[str]:
    env = merge_env(list(cfg.get("Env") or []), opts.env)
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, f"PATH={defaults.DEFAULT_PATH}")
    if opts.tty and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")
    if not any(e.startswith("HOSTNAME=") for e in env):
        env.append(f"HOSTNAME={opts.hostname or ''}")
    return [e for e in env if e != "HOSTNAME="]


def capabilities(opts: RunOptions) -> set[str]:
    caps = set(defaults.DEFAULT_CAPS)
    for raw in opts.cap_add:
        if raw.upper() == "ALL":
            caps |= set(defaults.ALL_CAPS)
            continue
        cap = defaults.normalize_cap(raw)
        if cap not in defaults.ALL_CAPS:
            raise InvalidArgument(f"--cap-add {raw}: unknown capability")
        caps.add(cap)
    for raw in opts.cap_drop:
        if raw.upper() == "ALL":
            caps.clear()
            continue
        cap = defaults.normalize_cap(raw)
        if cap not in defaults.ALL_CAPS:
            raise InvalidArgument(f"--cap-drop {raw}: unknown capability")
        caps.discard(cap)
    return caps


def _security_opts(opts: RunOptions) -> dict[str, str]:
    out = {}
    for item in opts.security_opt:
        key, sep, value = item.replace("=", ":", 1).partition(":") if "=" in item else item.partition(":")
        if key == "no-new-privileges":
            out[key] = value or "true"
        elif key == "seccomp" and sep:
            out[key] = value
        else:
            raise InvalidArgument(f"--security-opt {item!r}: unsupported; use no-new-privileges[=false] "
                                  "or seccomp=unconfined|<profile.json>")
    return out


def no_new_privileges(opts: RunOptions) -> bool:
    value = _security_opts(opts).get("no-new-privileges", "true")
    if value not in ("true", "false"):
        raise InvalidArgument(f"--security-opt no-new-privileges={value}: use true or false")
    return value == "true"


def seccomp_profile(opts: RunOptions) -> dict | None:
    choice = _security_opts(opts).get("seccomp")
    if choice == "unconfined":
        return None
    if choice:
        return seccomp.load_profile(choice)
    return seccomp.default_profile()


def hostname(opts: RunOptions, ctx: SpecContext) -> str:
    return opts.hostname or ctx.cid[:12]


def namespaces(opts: RunOptions, ctx: SpecContext) -> list[dict]:
    kinds = ["pid", "ipc", "uts", "mount"]
    if opts.network not in ("none", "host") and "network" not in ctx.join_ns:
        # bridge, container:NAME and user networks are namespaces the engine resolved beforehand
        raise InvalidArgument(f"--network {opts.network!r}: unknown; use none, host, bridge, container:NAME "
                              "or a network from `dockyard network ls`")
    if opts.network != "host":
        kinds.append("network")
    else:
        kinds.remove("uts")
    if ctx.rootless or ctx.remapped:
        kinds.append("user")
    out = []
    for kind in kinds:
        ns = {"type": kind}
        if kind in ctx.join_ns:
            ns["path"] = ctx.join_ns[kind]
        out.append(ns)
    return out


def resources(opts: RunOptions, *, rootless: bool) -> dict:
    res: dict = {"devices": list(defaults.DEVICE_RULES)}
    if opts.memory is not None:
        res["memory"] = {"limit": opts.memory}
    if opts.cpus is not None:
        period = 100_000
        res["cpu"] = {"quota": int(opts.cpus * period), "period": period}
    if opts.pids_limit is not None:
        res["pids"] = {"limit": opts.pids_limit}
    return res


def mounts(opts: RunOptions, ctx: SpecContext) -> list[dict]:
    out = defaults.default_mounts()
    if opts.network == "host":
        out = [m for m in out if m["destination"] != "/sys"]
        out.insert(3, {"destination": "/sys", "type": "bind", "source": "/sys",
                       "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    if ctx.rootless:
        out = [m for m in out if m["type"] not in ("cgroup", "mqueue")]
        for m in out:
            m["options"] = [o for o in m["options"] if not o.startswith("gid=")]
        out = [m if m["type"] != "sysfs" else
               {"destination": "/sys", "type": "bind", "source": "/sys",
                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} for m in out]
    for dest, src in ctx.etc_files.items():
        out.append({"destination": dest, "type": "bind", "source": src,
                    "options": ["rbind", "rprivate", "ro" if opts.read_only else "rw"]})
    for spec in opts.volumes:
        host, dest, ro = parse_volume(spec)
        if not Path(host).exists():
            raise InvalidArgument(f"-v {spec!r}: host path {host} does not exist")
        out.append({"destination": dest, "type": "bind", "source": host,
                    "options": ["rbind", "rprivate", "ro" if ro else "rw"]})
    for spec in opts.tmpfs:
        dest, _, extra = spec.partition(":")
        if not dest.startswith("/"):
            raise InvalidArgument(f"--tmpfs {spec!r}: the path must be absolute")
        options = ["nosuid", "nodev", "noexec", *([o for o in extra.split(",") if o] or ["size=65536k"])]
        out.append({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": options})
    return out


def resolve_user(user: str, rootfs: Path) -> dict:
    """``""``, ``name``, ``uid``, ``name:group`` or ``uid:gid`` → OCI ``process.user``."""
    name, _, group = user.partition(":")
    passwd = _table(rootfs / "etc/passwd")
    groups = _table(rootfs / "etc/group")
    uid = gid = 0
    username = "root"
    if name:
        if name.isdigit():
            uid = int(name)
            row = next((r for r in passwd if len(r) > 3 and r[2] == name), None)
        else:
            row = next((r for r in passwd if r[0] == name), None)
            if row is None or len(row) < 4:
                raise InvalidArgument(f"-u {user}: no user {name!r} in the container's /etc/passwd")
            uid = int(row[2])
        if row is not None and len(row) > 3:
            gid = int(row[3])
            username = row[0]
        else:
            username = ""
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            grow = next((r for r in groups if r[0] == group), None)
            if grow is None or len(grow) < 3:
                raise InvalidArgument(f"-u {user}: no group {group!r} in the container's /etc/group")
            gid = int(grow[2])
    extra = sorted({int(r[2]) for r in groups
                    if len(r) > 3 and username and username in r[3].split(",") and r[2].isdigit()} - {gid})
    out: dict = {"uid": uid, "gid": gid}
    if extra:
        out["additionalGids"] = extra
    return out


def _table(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]
