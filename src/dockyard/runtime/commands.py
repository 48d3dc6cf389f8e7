"""One function per runc command: parsed flags in, exit code out (the CLI's seam to the lifecycle)."""

from __future__ import annotations

import os

from dockyard.runtime import jsonlite as json
from dockyard.runtime import state as statemod
from dockyard.runtime.cli import UsageError

Opts = dict  # flag name → value


def root_dir(g: Opts) -> str:
    """The state root the global options select (``--root``, else runc's default for our uid)."""
    if g.get("root"):
        return g["root"]
    if os.geteuid() == 0:
        return statemod.DEFAULT_ROOT
    # Rootless, as runc: under $XDG_RUNTIME_DIR when there is one.
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(xdg, "dockyard-runc") if xdg else f"/tmp/dockyard-runc-{os.geteuid()}"


_root = root_dir


def _id(pos: list[str], cmd: str) -> str:
    if not pos:
        raise UsageError(f'"{cmd}" requires a container id')
    return pos[0]


def _int(o: Opts, name: str) -> int:
    try:
        return int(o.get(name) or 0)
    except ValueError:
        raise UsageError(f"--{name}: not a number: {o[name]!r}") from None


def cmd_create(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import container

    container.create(_root(g), _id(pos, "create"), o.get("bundle") or ".", pid_file=o.get("pid-file"),
                     console_socket=o.get("console-socket"), no_pivot=bool(o.get("no-pivot")),
                     preserve_fds=_int(o, "preserve-fds"))
    return 0


def cmd_run(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import run, spec

    bundle = os.path.abspath(o.get("bundle") or ".")
    terminal = False
    if not o.get("console-socket") and not o.get("detach"):
        terminal = bool((spec.load(bundle).get("process") or {}).get("terminal"))
    return run.run(_root(g), _id(pos, "run"), bundle, detach=bool(o.get("detach")), pid_file=o.get("pid-file"),
                   console_socket=o.get("console-socket"), no_pivot=bool(o.get("no-pivot")), terminal=terminal,
                   preserve_fds=_int(o, "preserve-fds"))


def cmd_start(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import container

    container.start(_root(g), _id(pos, "start"))
    return 0


def cmd_state(g: Opts, o: Opts, pos: list[str]) -> int:
    root = _root(g)
    st = statemod.load(root, _id(pos, "state"))
    print(json.dumps(st.public(statemod.status(root, st)), indent=2))
    return 0


def parse_signal(text: str) -> int:
    import signal

    if text.isdigit():
        return int(text)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    sig = getattr(signal, name, None)
    if not isinstance(sig, int):
        raise UsageError(f"unknown signal {text!r}")
    return int(sig)


def cmd_kill(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import container

    sig = parse_signal(pos[1]) if len(pos) > 1 else 15
    container.kill(_root(g), _id(pos, "kill"), sig, all_procs=bool(o.get("all")))
    return 0


def cmd_delete(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import container
    from dockyard.runtime.errors import ContainerNotFound

    try:
        container.delete(_root(g), _id(pos, "delete"), force=bool(o.get("force")))
    except ContainerNotFound:
        if not o.get("force"):
            raise  # as runc: `delete --force` of a container that is gone is not an error
    return 0


def cmd_list(g: Opts, o: Opts, pos: list[str]) -> int:
    root = _root(g)
    rows = []
    for cid in statemod.list_ids(root):
        try:
            st = statemod.load(root, cid)
        except Exception:
            continue
        rows.append(st.public(statemod.status(root, st)))
    if o.get("quiet"):
        print("\n".join(r["id"] for r in rows))
    elif o.get("format") == "json":
        print(json.dumps(rows))
    else:
        print(f"{'ID':<20}{'PID':<10}{'STATUS':<10}{'BUNDLE':<40}{'CREATED':<32}OWNER")
        for r in rows:
            print(f"{r['id']:<20}{r['pid']:<10}{r['status']:<10}{r['bundle']:<40}{r['created']:<32}{r['owner']}")
    return 0


def cmd_ps(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import cgroups

    root = _root(g)
    st = statemod.load(root, _id(pos, "ps"))
    pids = cgroups.attach(st.cgroup_path.split(":")).pids() if st.cgroup_path else [st.pid]
    if o.get("format") == "json":
        print(json.dumps(pids))
        return 0
    import subprocess

    args = pos[1:] or ["-ef"]
    out = subprocess.run(["ps", *args], capture_output=True, text=True, check=True).stdout.splitlines()
    header = out[0].split()
    col = header.index("PID") if "PID" in header else 1
    print(out[0])
    wanted = {str(p) for p in pids}
    for line in out[1:]:
        fields = line.split()
        if len(fields) > col and fields[col] in wanted:
            print(line)
    return 0


def cmd_exec(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import exec as execmod

    cid = _id(pos, "exec")
    if o.get("process"):
        with open(o["process"]) as f:
            proc = json.loads(f.read())
    else:
        if len(pos) < 2:
            raise UsageError('"exec" requires a command (or --process FILE)')
        st = statemod.load(_root(g), cid)
        proc = dict(execmod.container_spec(st).get("process") or {})
        proc["args"] = pos[1:]
        proc["terminal"] = bool(o.get("tty"))
        proc["env"] = [*(proc.get("env") or []), *(o.get("env") or [])]
        if o.get("cwd"):
            proc["cwd"] = o["cwd"]
        if o.get("user"):
            uid, _, gid = o["user"].partition(":")
            proc["user"] = {"uid": int(uid), "gid": int(gid or 0)}
        if o.get("additional-gids"):
            proc.setdefault("user", {})["additionalGids"] = [int(x) for x in o["additional-gids"]]
        if o.get("cap"):
            caps = {k: list(v) for k, v in (proc.get("capabilities") or {}).items()}
            for key in ("bounding", "effective", "permitted", "inheritable", "ambient"):
                caps.setdefault(key, [])
                caps[key] += [c for c in o["cap"] if c not in caps[key]]
            proc["capabilities"] = caps
        if o.get("no-new-privs"):
            proc["noNewPrivileges"] = True
    return execmod.exec_process(_root(g), cid, proc, detach=bool(o.get("detach")), pid_file=o.get("pid-file"),
                                console_socket=o.get("console-socket"), preserve_fds=_int(o, "preserve-fds"))


def cmd_spec(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import specgen

    path = os.path.join(o.get("bundle") or ".", "config.json")
    if os.path.exists(path):
        raise UsageError(f"File {path} exists. Remove it first")
    with open(path, "w") as f:
        f.write(json.dumps(specgen.default_spec(rootless=bool(o.get("rootless"))), indent="\t"))
    return 0


def cmd_features(g: Opts, o: Opts, pos: list[str]) -> int:
    from dockyard.runtime import specgen

    print(json.dumps(specgen.features(), indent=4))
    return 0
