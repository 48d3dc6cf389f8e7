"""config.json (OCI runtime spec 1.x): load, validate, and answer questions about it.

The spec stays the raw JSON dict (unknown fields are kept and ignored, as runc does); validation
walks the fields this runtime acts on and raises :class:`SpecError` naming the exact field, e.g.
``config.json: linux.namespaces[2].type "foo": unknown namespace type``.  Checks here are cheap
and structural; what only the kernel can judge (a memory limit it rejects) is reported where it
is applied, with the same field naming.
"""

from __future__ import annotations

import os

from dockyard.runtime import jsonlite as json
from dockyard.runtime.errors import SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAMESPACES = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}
HOOKS = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")

Spec = dict  # the raw config.json object


def fail(field: str, msg: str, value: Any = None) -> SpecError:
    shown = f" {json.dumps(value)}" if value is not None else ""
    return SpecError(f"config.json: {field}{shown}: {msg}")


def load(bundle: str) -> Spec:
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            spec = json.loads(f.read())
    except FileNotFoundError:
        raise SpecError(f"bundle {bundle!r}: config.json not found; run `dockyard-runc spec` there") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise SpecError(f"config.json: invalid JSON: {e}") from None
    validate(spec)
    return spec


def _type(value: Any, kind: type | tuple[type, ...], field: str, name: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise fail(field, f"must be {name}", value)


def _str_list(value: Any, field: str) -> None:
    _type(value, list, field, "a list of strings")
    for i, v in enumerate(value):
        _type(v, str, f"{field}[{i}]", "a string")


def validate(spec: Any) -> None:
    _type(spec, dict, "(top level)", "an object")
    if not isinstance(spec.get("ociVersion"), str) or not spec["ociVersion"].startswith("1."):
        raise fail("ociVersion", "must be a 1.x version string", spec.get("ociVersion"))
    root = spec.get("root")
    _type(root, dict, "root", "an object with a path")
    _type(root.get("path"), str, "root.path", "a string")
    if "hostname" in spec:
        _type(spec["hostname"], str, "hostname", "a string")
    _validate_process(spec.get("process"))
    for i, m in enumerate(spec.get("mounts") or []):
        f = f"mounts[{i}]"
        _type(m, dict, f, "an object")
        _type(m.get("destination"), str, f"{f}.destination", "a string")
        if not m["destination"].startswith("/"):
            raise fail(f"{f}.destination", "must be an absolute path", m["destination"])
        if "options" in m:
            _str_list(m["options"], f"{f}.options")
    for name, hooks in (spec.get("hooks") or {}).items():
        if name not in HOOKS:
            raise fail(f"hooks.{name}", "unknown hook kind")
        for i, h in enumerate(hooks or []):
            _type(h, dict, f"hooks.{name}[{i}]", "an object")
            _type(h.get("path"), str, f"hooks.{name}[{i}].path", "a string")
    _validate_linux(spec.get("linux") or {})


def _validate_process(proc: Any) -> None:
    if proc is None:
        return
    _type(proc, dict, "process", "an object")
    args = proc.get("args")
    if not args:
        raise fail("process.args", "must name the program to run")
    _str_list(args, "process.args")
    _str_list(proc.get("env") or [], "process.env")
    cwd = proc.get("cwd", "/")
    _type(cwd, str, "process.cwd", "a string")
    if not cwd.startswith("/"):
        raise fail("process.cwd", "must be an absolute path", cwd)
    user = proc.get("user") or {}
    for key in ("uid", "gid", "umask"):
        if key in user:
            _type(user[key], int, f"process.user.{key}", "an integer")
    for i, g in enumerate(user.get("additionalGids") or []):
        _type(g, int, f"process.user.additionalGids[{i}]", "an integer")
    from dockyard.runtime import capabilities

    for cset in CAP_SETS:
        for i, cap in enumerate((proc.get("capabilities") or {}).get(cset) or []):
            if cap not in capabilities.CAPS:
                raise fail(f"process.capabilities.{cset}[{i}]", "unknown capability", cap)
    import resource

    for i, rl in enumerate(proc.get("rlimits") or []):
        f = f"process.rlimits[{i}]"
        _type(rl, dict, f, "an object")
        if not hasattr(resource, str(rl.get("type"))) or not str(rl.get("type")).startswith("RLIMIT_"):
            raise fail(f"{f}.type", "unknown rlimit", rl.get("type"))
        for key in ("soft", "hard"):
            _type(rl.get(key), int, f"{f}.{key}", "an integer")
    if "oomScoreAdj" in proc:
        _type(proc["oomScoreAdj"], int, "process.oomScoreAdj", "an integer")


def _validate_linux(linux: Any) -> None:
    _type(linux, dict, "linux", "an object")
    seen = set()
    for i, ns in enumerate(linux.get("namespaces") or []):
        f = f"linux.namespaces[{i}]"
        _type(ns, dict, f, "an object")
        kind = ns.get("type")
        if kind not in NAMESPACES:
            raise fail(f"{f}.type", "unknown namespace type", kind)
        if kind in seen:
            raise fail(f"{f}.type", "namespace listed twice", kind)
        seen.add(kind)
        if ns.get("path") and not os.path.exists(ns["path"]):
            raise fail(f"{f}.path", "namespace path does not exist", ns["path"])
    for key in ("uidMappings", "gidMappings"):
        for i, m in enumerate(linux.get(key) or []):
            for k in ("containerID", "hostID", "size"):
                _type(m.get(k), int, f"linux.{key}[{i}].{k}", "an integer")
    if (linux.get("uidMappings") or linux.get("gidMappings")) and "user" not in seen:
        raise fail("linux.uidMappings", "set, but there is no user namespace in linux.namespaces")
    res = linux.get("resources") or {}
    _type(res, dict, "linux.resources", "an object")
    mem = res.get("memory") or {}
    for key in ("limit", "reservation", "swap", "kernel"):
        if key in mem and mem[key] is not None:
            _type(mem[key], int, f"linux.resources.memory.{key}", "an integer")
            if mem[key] < -1:
                raise fail(f"linux.resources.memory.{key}", "must be -1 (unlimited) or a byte count", mem[key])
    cpu = res.get("cpu") or {}
    for key in ("shares", "quota", "period"):
        if key in cpu and cpu[key] is not None:
            _type(cpu[key], int, f"linux.resources.cpu.{key}", "an integer")
    for key in ("cpus", "mems"):
        if cpu.get(key) is not None:
            _type(cpu[key], str, f"linux.resources.cpu.{key}", "a string")
    if (res.get("pids") or {}).get("limit") is not None:
        _type(res["pids"]["limit"], int, "linux.resources.pids.limit", "an integer")
    if (res.get("blockIO") or {}).get("weight") is not None:
        w = res["blockIO"]["weight"]
        _type(w, int, "linux.resources.blockIO.weight", "an integer")
        if not 10 <= w <= 1000:
            raise fail("linux.resources.blockIO.weight", "must be between 10 and 1000", w)
    for i, hl in enumerate(res.get("hugepageLimits") or []):
        _type(hl.get("pageSize"), str, f"linux.resources.hugepageLimits[{i}].pageSize", "a string such as 2MB")
        _type(hl.get("limit"), int, f"linux.resources.hugepageLimits[{i}].limit", "an integer")
    for i, d in enumerate(res.get("devices") or []):
        _type(d.get("allow"), bool, f"linux.resources.devices[{i}].allow", "true or false")
    if "cgroupsPath" in linux:
        _type(linux["cgroupsPath"], str, "linux.cgroupsPath", "a string")
    for key in ("maskedPaths", "readonlyPaths"):
        _str_list(linux.get(key) or [], f"linux.{key}")
    for k, v in (linux.get("sysctl") or {}).items():
        _type(v, str, f"linux.sysctl.{k}", "a string")
    if linux.get("seccomp"):
        from dockyard.runtime import seccomp

        seccomp.validate(linux["seccomp"])


def namespaces(spec: Spec) -> dict[str, str]:
    """namespace type → path to join ('' for a new one)."""
    return {ns["type"]: ns.get("path") or "" for ns in (spec.get("linux") or {}).get("namespaces") or []}


def rootfs(spec: Spec, bundle: str) -> str:
    path = os.path.join(bundle, spec["root"]["path"])
    if not os.path.isdir(path):
        raise fail("root.path", "rootfs directory does not exist", path)
    return os.path.realpath(path)
