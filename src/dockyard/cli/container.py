"""Docker's container verbs, daemonless: the engine runs in this process, shims keep containers alive.

``run``/``create``/``start``/``ps``/``logs``/``exec``/``stop``/``kill``/``rm``/``wait``/``inspect``/
``top``/``stats``/``restart``/``rename``/``cp``, also grouped under ``dockyard container``.  Exit
codes follow docker: ``run`` exits with the container's code, 125 when the engine fails, 126/127
when the command cannot be run or found.  Engine modules are imported inside the commands: this
module is on the path of every ``dockyard run``.
"""

from __future__ import annotations

import sys
import time

import click

from dockyard.base.errors import DockyardError
from dockyard.cli import fastrun, output
from dockyard.cli.output import CONTEXT
from dockyard.engine.network import default_network


def _engine():
    from dockyard.engine.engine import Engine

    return Engine()


def run_options(f):
    """``run``'s and ``create``'s flags and IMAGE [COMMAND…] arguments (the remote ``run`` uses them too)."""
    opts = [
        click.option("-e", "--env", multiple=True, help="Set an environment variable (KEY=VALUE or KEY)."),
        click.option("--env-file", multiple=True, help="Read environment variables from a file."),
        click.option("-v", "--volume", "volumes", multiple=True, help="Bind mount HOST:CONTAINER[:ro]."),
        click.option("--tmpfs", multiple=True, help="Mount a tmpfs: PATH[:OPTIONS]."),
        click.option("-w", "--workdir", help="Working directory inside the container."),
        click.option("-u", "--user", help="USER[:GROUP] or UID[:GID]."),
        click.option("--name", help="Name the container."),
        click.option("-h", "--hostname", help="Container host name."),
        click.option("--entrypoint", help="Override the image's entrypoint ('' clears it)."),
        click.option("-m", "--memory", help="Memory limit (e.g. 256m)."),
        click.option("--cpus", help="Number of CPUs (e.g. 0.5)."),
        click.option("--pids-limit", type=int, help="Limit the number of processes (-1: unlimited)."),
        click.option("--network", "--net", default=default_network,
                     help="bridge, a network name, container:NAME, host or none (default: $DOCKYARD_NETWORK, "
                     "else bridge as root, none rootless)."),
        click.option("-p", "--publish", multiple=True, help="Publish a port: [IP:][HOSTPORT:]PORT[/tcp|udp]."),
        click.option("-P", "--publish-all", is_flag=True, help="Publish the image's exposed ports on free host ports."),
        click.option("--network-alias", multiple=True, help="Another name for the container on its network."),
        click.option("--ip", help="The container's IPv4 address on its network."),
        click.option("--dns", multiple=True, help="A DNS server for the container (replaces the network's)."),
        click.option("--read-only", is_flag=True, help="Mount the root file system read-only."),
        click.option("--cap-add", multiple=True, help="Add a Linux capability."),
        click.option("--cap-drop", multiple=True, help="Drop a Linux capability."),
        click.option("--security-opt", multiple=True, help="no-new-privileges[=false], seccomp=unconfined|FILE."),
        click.option("--runtime", type=click.Choice(["dockyard", "runc", "crun"]), help="OCI runtime."),
        click.option("--userns", help="User namespace: 'host' (root's default) or 'private' (alias auto, "
                     "remap): root inside is an unprivileged host uid; rootless engines always use one."),
        click.option("--pod", help="Join the namespaces of this pod sandbox (a container created with --sandbox)."),
        click.option("--sandbox", is_flag=True, help="Make this container a pod sandbox others can join."),
        click.option("--label", "-l", "labels", multiple=True, help="KEY=VALUE metadata."),
        click.option("-i", "--interactive", is_flag=True, help="Keep stdin open."),
        click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-terminal."),
    ]
    f = output.options(*opts)(f)
    f = click.argument("command", nargs=-1, type=click.UNPROCESSED)(f)
    return click.argument("image")(f)


# Shared with the click-free fast path of ``run`` (cli/fastrun.py): one place turns flags into options.
_build_options = fastrun.build_options


@click.command(context_settings=CONTEXT)
@click.option("--rm", "auto_remove", is_flag=True, help="Remove the container when it exits.")
@click.option("-d", "--detach", is_flag=True, help="Run in the background and print the container id.")
@run_options
def run(image: str, command: tuple[str, ...], auto_remove: bool, detach: bool, **kw) -> None:
    """Create and start a container; attach to it unless -d."""
    # `dockyard run …` normally takes fastrun's click-free path (cli/main.py); this is the same
    # body, reached when click parses (--help, errors, flags fastrun does not know).
    try:
        opts = _build_options(image, command, kw, auto_remove=auto_remove)
    except DockyardError as e:
        raise output.fail(e) from None
    fastrun.execute(opts, detach=detach, sandbox=kw["sandbox"])


_forwarder = fastrun.forwarder


@click.command(context_settings=CONTEXT)
@run_options
def create(image: str, command: tuple[str, ...], **kw) -> None:
    """Create a container without starting it; prints its id."""
    try:
        rec = _engine().create(_build_options(image, command, kw), sandbox=kw["sandbox"])
    except DockyardError as e:
        raise output.fail(e) from None
    click.echo(rec.id)


@click.command()
@click.option("-a", "--attach", "attach_", is_flag=True, help="Attach to output and return its exit code.")
@click.option("-i", "--interactive", is_flag=True, help="Attach stdin.")
@click.argument("containers", nargs=-1, required=True)
def start(containers: tuple[str, ...], attach_: bool, interactive: bool) -> None:
    """Start created or stopped containers."""
    from dockyard.engine import attach

    engine = _engine()
    if attach_:
        rec = engine.get(containers[0])
        engine.ensure_created(rec)  # attach before the process runs, so no output is missed
        sock, _ = engine.shim(rec).request("attach", id=rec.id, stdin=interactive, timeout=None)
        engine.start(rec)
        code = attach.stream(sock, stdin=interactive, tty=rec.options.tty, forward=_forwarder(engine, rec))
        output.exit_with(code)
    for ref in containers:
        engine.start(engine.get(ref))
        click.echo(ref)


#: ``ps``'s flags, daemonless and remote
ps_options = output.options(
    click.option("-a", "--all", "all_", is_flag=True, help="Show all containers (default: running only)."),
    click.option("-q", "--quiet", is_flag=True, help="Only ids."),
    click.option("--no-trunc", is_flag=True, help="Do not truncate ids and commands."),
    click.option("--format", "fmt", help="Go-template-like format: {{.ID}} {{.Names}} {{.Status}} … or 'json'."),
)

#: ``ps``'s default table: (heading, row key)
PS_COLUMNS = [("CONTAINER ID", "ID"), ("IMAGE", "Image"), ("COMMAND", "Command"), ("CREATED", "RunningFor"),
              ("STATUS", "Status"), ("PORTS", "Ports"), ("NAMES", "Names")]


def ps_row(*, cid: str, image: str, argv: list[str], created: float, st, name: str, pod: str, runtime: str,
           ports: str, no_trunc: bool) -> dict[str, str]:
    """One ``ps`` row (the ``--format`` fields); *st* has ``status``, ``exit_code``, ``started_at``,
    ``finished_at``.  The remote ``ps`` builds its rows here too, so the two print alike."""
    import shlex

    cmd = " ".join(shlex.quote(a) for a in argv)
    return {"ID": cid if no_trunc else cid[:12], "Image": image,
            "Command": cmd if no_trunc else (cmd[:20] + "…" if len(cmd) > 20 else cmd),
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)),
            "RunningFor": f"{output.age(created)} ago", "Status": output.status_text(st), "State": st.status,
            "Names": name, "Pod": pod[:12], "Runtime": runtime, "Ports": ports}


@click.command()
@ps_options
def ps(all_: bool, quiet: bool, no_trunc: bool, fmt: str | None) -> None:
    """List containers."""
    from dockyard.engine import network

    engine = _engine()
    rows = []
    recs = engine.list()
    ports = network.ports_by_container(engine, recs)
    for rec in recs:
        st = engine.status(rec)
        if not all_ and st.status != "running":
            continue
        rows.append(ps_row(cid=rec.id, image=rec.image, argv=(rec.options.entrypoint or []) + (rec.options.command or []),
                           created=rec.created, st=st, name=rec.name, pod=rec.pod, runtime=rec.runtime,
                           ports=ports.get(rec.id, "") if st.running else "", no_trunc=no_trunc))
    output.echo_rows(rows, PS_COLUMNS, fmt=fmt, quiet=quiet)


#: ``logs``' flags and CONTAINER argument, daemonless and remote
logs_options = output.options(
    click.option("-f", "--follow", is_flag=True, help="Follow log output."),
    click.option("-t", "--timestamps", is_flag=True, help="Show timestamps."),
    click.option("-n", "--tail", default="all", help="Number of lines from the end (default all)."),
    click.option("--since", help="Show logs since a time (RFC 3339, Unix time) or a duration ago (10m)."),
    click.argument("container"),
)


@click.command()
@logs_options
def logs(container: str, follow: bool, timestamps: bool, tail: str, since: str | None) -> None:
    """Show a container's output (its json-file log)."""
    from dockyard.base.errors import InvalidArgument
    from dockyard.engine import logs as lg

    engine = _engine()
    rec = engine.get(container)
    if tail != "all" and not tail.isdigit():
        raise InvalidArgument(f"--tail {tail!r}: use a number or 'all'")
    n = None if tail == "all" else int(tail)
    since_ts = lg.parse_since(since) if since else None
    path = engine.log_path(rec.id)
    lines = (lg.follow(path, running=lambda: engine.status(rec).running, tail=n, since=since_ts) if follow
             else lg.read(path, tail=n, since=since_ts))
    out, err = sys.stdout, sys.stderr
    for line in lines:
        stream = out if line.stream == "stdout" else err
        stream.write(f"{line.time} {line.text}" if timestamps else line.text)
        stream.flush() if follow else None


#: ``exec``'s flags and CONTAINER COMMAND… arguments, daemonless and remote (with :data:`CONTEXT`)
exec_options = output.options(
    click.option("-i", "--interactive", is_flag=True, help="Keep stdin open."),
    click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-terminal."),
    click.option("-d", "--detach", is_flag=True, help="Run in the background."),
    click.option("-e", "--env", multiple=True, help="Set an environment variable."),
    click.option("-u", "--user", help="USER[:GROUP] or UID[:GID]."),
    click.option("-w", "--workdir", help="Working directory inside the container."),
    click.argument("container"),
    click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED),
)


@click.command("exec", context_settings=CONTEXT)
@exec_options
def exec_(container: str, command: tuple[str, ...], interactive: bool, tty: bool, detach: bool,
          env: tuple[str, ...], user: str | None, workdir: str | None) -> None:
    """Run a command in a running container."""
    from dockyard.engine import attach
    from dockyard.engine.execs import exec_ as run_exec

    engine = _engine()
    try:
        rec = engine.get(container)
        sock = run_exec(engine, rec, list(command), env=list(env), user=user, workdir=workdir, tty=tty,
                        stdin=interactive and not detach)
    except DockyardError as e:
        raise output.fail(e, default=126 if "exec" in str(e) else 1) from None
    if detach:
        sock.close()
        return
    output.exit_with(attach.stream(sock, stdin=interactive, tty=tty))


@click.command()
@click.option("-t", "--time", "timeout", default=10, show_default=True, help="Seconds to wait before killing.")
@click.argument("containers", nargs=-1, required=True)
def stop(containers: tuple[str, ...], timeout: int) -> None:
    """Stop containers: the stop signal (SIGTERM), then SIGKILL after --time seconds."""
    engine = _engine()
    for ref in containers:
        engine.stop(engine.get(ref), timeout=timeout)
        click.echo(ref)


@click.command()
@click.option("-s", "--signal", "sig", default="KILL", show_default=True, help="Signal to send.")
@click.argument("containers", nargs=-1, required=True)
def kill(containers: tuple[str, ...], sig: str) -> None:
    """Send a signal to containers."""
    from dockyard.engine.engine import parse_signal

    engine = _engine()
    signum = parse_signal(sig)
    for ref in containers:
        engine.kill(engine.get(ref), signum)
        click.echo(ref)


@click.command()
@click.option("-f", "--force", is_flag=True, help="Kill and remove running containers.")
@click.argument("containers", nargs=-1, required=True)
def rm(containers: tuple[str, ...], force: bool) -> None:
    """Remove containers (and their writable layer, logs and runtime state)."""
    engine = _engine()
    output.echo_each(containers, lambda ref: engine.remove(engine.get(ref), force=force))


@click.command()
@click.argument("containers", nargs=-1, required=True)
def wait(containers: tuple[str, ...]) -> None:
    """Block until containers stop; print their exit codes."""
    engine = _engine()
    for ref in containers:
        click.echo(engine.wait(engine.get(ref)))


@click.command()
@click.option("-f", "--format", "fmt", help="Print one {{.Field}} / {{.State.Status}} path instead.")
@click.argument("containers", nargs=-1, required=True)
def inspect(containers: tuple[str, ...], fmt: str | None) -> None:
    """Show containers' configuration and state as JSON."""
    from dockyard.cli.inspectfmt import echo_docs
    from dockyard.engine import views

    engine = _engine()
    echo_docs([views.inspect(engine, engine.get(ref)) for ref in containers], fmt)


@click.command()
@click.argument("container")
def top(container: str) -> None:
    """List a container's processes."""
    from dockyard.engine import views

    engine = _engine()
    rows = views.top(engine, engine.get(container))
    output.echo_table([(k, k) for k in ("UID", "PID", "PPID", "STAT", "TIME", "CMD")], rows)


@click.command()
@click.option("--no-stream", is_flag=True, help="Print one sample and exit.")
@click.option("-a", "--all", "all_", is_flag=True, help="Include stopped containers.")
@click.argument("containers", nargs=-1)
def stats(containers: tuple[str, ...], no_stream: bool, all_: bool) -> None:
    """CPU, memory and pids of containers, from their cgroups."""
    from dockyard.engine import views
    from dockyard.engine.stats import UNLIMITED, human

    engine = _engine()
    recs = [engine.get(r) for r in containers] or [
        r for r in engine.list() if all_ or engine.status(r).running]
    cols = [("CONTAINER ID", "id"), ("NAME", "name"), ("CPU %", "cpu"), ("MEM USAGE / LIMIT", "mem"),
            ("MEM %", "memp"), ("PIDS", "pids")]
    while True:
        first = {r.id: (views.sample(engine, r), time.monotonic()) for r in recs}
        time.sleep(0.5)
        rows = []
        for r in recs:
            s = views.sample(engine, r)
            s0, t0 = first[r.id]
            cpu = (s.cpu_ns - s0.cpu_ns) / 1e9 / max(1e-6, time.monotonic() - t0) * 100
            limit = s.memory_limit if s.memory_limit < UNLIMITED else _host_memory()
            rows.append({"id": r.id[:12], "name": r.name, "cpu": f"{cpu:.2f}%",
                         "mem": f"{human(s.memory)} / {human(limit)}",
                         "memp": f"{(100 * s.memory / limit if limit else 0):.2f}%", "pids": str(s.pids)})
        if not no_stream:
            click.echo("\033[2J\033[H", nl=False)
        output.echo_table(cols, rows)
        if no_stream:
            return
        time.sleep(0.5)


def _host_memory() -> int:
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@click.command()
@click.option("-t", "--time", "timeout", default=10, show_default=True, help="Seconds to wait before killing.")
@click.argument("containers", nargs=-1, required=True)
def restart(containers: tuple[str, ...], timeout: int) -> None:
    """Stop and start containers again."""
    engine = _engine()
    for ref in containers:
        engine.restart(engine.get(ref), timeout=timeout)
        click.echo(ref)


@click.command()
@click.argument("container")
@click.argument("new_name")
def rename(container: str, new_name: str) -> None:
    """Rename a container."""
    engine = _engine()
    engine.rename(engine.get(container), new_name)


@click.command()
@click.argument("src")
@click.argument("dest")
def cp(src: str, dest: str) -> None:
    """Copy files between a container and the host: CONTAINER:PATH HOSTPATH or HOSTPATH CONTAINER:PATH."""
    from pathlib import Path

    from dockyard.base.errors import InvalidArgument
    from dockyard.engine import copy

    engine = _engine()
    if ":" in src and not src.startswith(("/", ".")):
        ref, _, path = src.partition(":")
        copy.copy_out(engine.bundle(engine.get(ref).id) / "rootfs", path, Path(dest))
    elif ":" in dest and not dest.startswith(("/", ".")):
        ref, _, path = dest.partition(":")
        copy.copy_in(engine.bundle(engine.get(ref).id) / "rootfs", Path(src), path)
    else:
        raise InvalidArgument("cp: one of SRC and DEST must be CONTAINER:PATH")


@click.group()
def container() -> None:
    """Manage containers (the same verbs as the top level)."""


for _name, _cmd in {"run": run, "create": create, "start": start, "ls": ps, "ps": ps, "logs": logs,
                    "exec": exec_, "stop": stop, "kill": kill, "rm": rm, "wait": wait, "inspect": inspect,
                    "top": top, "stats": stats, "restart": restart, "rename": rename, "cp": cp}.items():
    container.add_command(_cmd, _name)
