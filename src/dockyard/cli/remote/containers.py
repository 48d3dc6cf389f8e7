"""Container verbs against the daemon: ``ps``, ``logs``, ``stop``, ``kill``, ``rm``, ``start``, ``wait``,
``inspect``, ``exec`` — the daemonless verbs' flags, output and exit codes.

Each container reference is resolved first through ``/dockyard/containers/{ref}``
(:mod:`dockyard.dockerapi.cliviews`), which answers with the engine's own "not found" message;
the action then goes through the Docker API by id.  Flags, rows and documents come from the
daemonless CLI's own decorators and formatting functions (:mod:`dockyard.cli.container`,
:mod:`dockyard.cli.output`, :mod:`dockyard.cli.inspectfmt`).
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import click

from dockyard.base.errors import DockyardError
from dockyard.cli import container as local
from dockyard.cli import output
from dockyard.cli.remote import streams
from dockyard.cli.remote.transport import Client, seg


def resolve(client: Client, ref: str) -> dict[str, Any]:
    """``{"row": …, "inspect": …}`` of one container (NotFound in the engine's words)."""
    return client.get(f"/dockyard/containers/{seg(ref)}")


def _status(row: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(status=row["status"], exit_code=row["exit_code"], started_at=row["started_at"],
                           finished_at=row["finished_at"], running=row["status"] == "running")


def ps_row(r: dict[str, Any], no_trunc: bool) -> dict[str, str]:
    """One row of ``ps`` from the daemon's row, built by :func:`dockyard.cli.container.ps_row`."""
    return local.ps_row(cid=r["id"], image=r["image"], argv=(r["entrypoint"] or []) + (r["command"] or []),
                        created=r["created"], st=_status(r), name=r["name"], pod=r["pod"], runtime=r["runtime"],
                        ports=r["ports"], no_trunc=no_trunc)


@click.command()
@local.ps_options
@click.pass_obj
def ps(client: Client, all_: bool, quiet: bool, no_trunc: bool, fmt: str | None) -> None:
    """List containers."""
    rows = [ps_row(r, no_trunc) for r in client.get("/dockyard/containers", all=all_)]
    output.echo_rows(rows, local.PS_COLUMNS, fmt=fmt, quiet=quiet)


@click.command()
@local.logs_options
@click.pass_obj
def logs(client: Client, container: str, follow: bool, timestamps: bool, tail: str, since: str | None) -> None:
    """Show a container's output (its json-file log)."""
    from dockyard.base.errors import InvalidArgument

    doc = resolve(client, container)
    if tail != "all" and not tail.isdigit():
        raise InvalidArgument(f"--tail {tail!r}: use a number or 'all'")
    since_ts = None
    if since:
        from dockyard.engine import logs as lg

        since_ts = lg.parse_since(since)
    resp = client.open("GET", f"/containers/{doc['row']['id']}/logs",
                       {"stdout": True, "stderr": True, "follow": follow, "timestamps": timestamps,
                        "tail": tail, "since": since_ts})
    try:
        streams.copy_output(resp.read, resp.read1, tty=doc["row"]["tty"])
    finally:
        resp.close()


@click.command()
@click.option("-t", "--time", "timeout", default=10, show_default=True, help="Seconds to wait before killing.")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def stop(client: Client, containers: tuple[str, ...], timeout: int) -> None:
    """Stop containers: the stop signal (SIGTERM), then SIGKILL after --time seconds."""
    for ref in containers:
        cid = resolve(client, ref)["row"]["id"]
        client.post(f"/containers/{cid}/stop", t=timeout)
        click.echo(ref)


@click.command()
@click.option("-s", "--signal", "sig", default="KILL", show_default=True, help="Signal to send.")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def kill(client: Client, containers: tuple[str, ...], sig: str) -> None:
    """Send a signal to containers."""
    from dockyard.engine.engine import parse_signal

    signum = parse_signal(sig)
    for ref in containers:
        cid = resolve(client, ref)["row"]["id"]
        client.post(f"/containers/{cid}/kill", signal=signum)
        click.echo(ref)


@click.command()
@click.option("-f", "--force", is_flag=True, help="Kill and remove running containers.")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def rm(client: Client, containers: tuple[str, ...], force: bool) -> None:
    """Remove containers (and their writable layer, logs and runtime state)."""
    def remove(ref: str) -> None:
        client.delete(f"/containers/{resolve(client, ref)['row']['id']}", force=force)

    output.echo_each(containers, remove)


@click.command()
@click.option("-a", "--attach", "attach_", is_flag=True, help="Attach to output and return its exit code.")
@click.option("-i", "--interactive", is_flag=True, help="Attach stdin.")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def start(client: Client, containers: tuple[str, ...], attach_: bool, interactive: bool) -> None:
    """Start created or stopped containers."""
    if attach_:
        from dockyard.cli.remote.run import attached

        doc = resolve(client, containers[0])
        code = attached(client, doc["row"]["id"], interactive=interactive, tty=doc["row"]["tty"],
                        auto_remove=bool(doc["inspect"]["HostConfig"].get("AutoRemove")), created=False)
        output.exit_with(code)
    for ref in containers:
        cid = resolve(client, ref)["row"]["id"]
        client.post(f"/containers/{cid}/start")
        click.echo(ref)


@click.command()
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def wait(client: Client, containers: tuple[str, ...]) -> None:
    """Block until containers stop; print their exit codes."""
    for ref in containers:
        cid = resolve(client, ref)["row"]["id"]
        click.echo(client.post(f"/containers/{cid}/wait")["StatusCode"])


@click.command()
@click.option("-f", "--format", "fmt", help="Print one {{.Field}} / {{.State.Status}} path instead.")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def inspect(client: Client, containers: tuple[str, ...], fmt: str | None) -> None:
    """Show containers' configuration and state as JSON."""
    from dockyard.cli.inspectfmt import echo_docs

    echo_docs([resolve(client, ref)["inspect"] for ref in containers], fmt)


def client_env(env: list[str] | tuple[str, ...]) -> list[str]:
    """``KEY`` alone takes *our* value (as daemonless, where the CLI is the engine); unset keys drop."""
    import os

    out = []
    for item in env:
        key, sep, _ = item.partition("=")
        if sep:
            out.append(item)
        elif key in os.environ:
            out.append(f"{key}={os.environ[key]}")
    return out


@click.command("exec", context_settings=output.CONTEXT)
@local.exec_options
@click.pass_obj
def exec_(client: Client, container: str, command: tuple[str, ...], interactive: bool, tty: bool, detach: bool,
          env: tuple[str, ...], user: str | None, workdir: str | None) -> None:
    """Run a command in a running container."""
    import contextlib

    cid = resolve(client, container)["row"]["id"]
    stdin = interactive and not detach
    try:
        exec_id = client.post(f"/containers/{cid}/exec", {
            "Cmd": list(command), "Env": client_env(env), "User": user or "", "WorkingDir": workdir or "",
            "Tty": tty, "AttachStdin": stdin, "AttachStdout": True, "AttachStderr": True})["Id"]
        if detach:
            client.post(f"/exec/{exec_id}/start", {"Detach": True, "Tty": tty})
            return
        sock, initial, _ = client.hijack(f"/exec/{exec_id}/start", body={"Detach": False, "Tty": tty})
    except DockyardError as e:
        raise output.fail(e, default=126 if "exec" in str(e) else 1) from None
    with streams.raw_terminal() if tty and stdin else contextlib.nullcontext():
        if tty:
            _until_running(client, exec_id)
            streams.follow_size(lambda h, w: _resize(client, exec_id, h, w))
        if stdin:
            streams.feed_stdin(sock)
        reader = streams.SocketReader(sock, initial)
        streams.copy_output(reader.read, reader.read1, tty=tty, first_err=lambda text: _start_error(client, exec_id, text))
    sock.close()
    code = client.get(f"/exec/{exec_id}/json")["ExitCode"]
    output.exit_with(255 if code is None else int(code))


def _start_error(client: Client, exec_id: str, text: bytes) -> bytes:
    """The daemon reports an exec that could not start (no pid, 126/127) as its first stderr
    bytes; daemonless prints it as an error line."""
    doc = client.get(f"/exec/{exec_id}/json")
    return b"Error: " + text if not doc["Pid"] and doc["ExitCode"] in (126, 127) else text


def _until_running(client: Client, exec_id: str, timeout: float = 2.0) -> None:
    """The daemon resizes an exec only once its process runs, which follows the 101 by a moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = client.get(f"/exec/{exec_id}/json")
        if doc["Running"] or doc["ExitCode"] is not None:
            return
        time.sleep(0.01)


def _resize(client: Client, exec_id: str, rows: int, cols: int) -> None:
    try:
        client.post(f"/exec/{exec_id}/resize", h=rows, w=cols)
    except DockyardError:
        pass  # the process may have ended already
