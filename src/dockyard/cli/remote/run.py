"""``dockyard run`` against the daemon: docker's create → attach → wait → start → stream sequence.

Flags are parsed by the daemonless ``run``'s own click options (:func:`dockyard.cli.container.
run_options`, so defaults such as ``--network`` are whatever the daemonless CLI uses) and
checked by the same :func:`dockyard.cli.fastrun.build_options`, so bad flags fail identically
before anything is sent.  The engine's options then become Docker's create body.  Options the
Docker API cannot carry (``--pod``, ``--sandbox``, ``--userns``, ``--ip``, ``--dns``) send the
command line back to daemonless (:class:`~.discovery.GoLocal`).  ``-t`` goes through the hijacked
attach with our terminal raw and its size sent on every SIGWINCH.
Attached, output streams as it comes, signals we receive are forwarded to the container, and we
exit with the container's code; ``--rm`` waits until the daemon has removed it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import click

from dockyard.base.errors import DockyardError
from dockyard.cli import container as local
from dockyard.cli import fastrun, output
from dockyard.cli.remote import streams
from dockyard.cli.remote.containers import client_env
from dockyard.cli.remote.discovery import GoLocal
from dockyard.cli.remote.transport import Client

#: RunOptions fields without a Docker API field our daemon honours
_LOCAL_ONLY = ("pod", "userns", "ip", "dns")


def _port_bindings(specs: list[str]) -> tuple[dict[str, list[dict[str, str]]], dict[str, dict]]:
    """``[IP:][HOSTPORT:]PORT[/proto]`` → Docker's PortBindings and ExposedPorts."""
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in specs:
        addr, _, proto = spec.partition("/")
        parts = addr.rsplit(":", 2)
        port = parts[-1]
        host_port = parts[-2] if len(parts) >= 2 else ""
        host_ip = parts[-3] if len(parts) == 3 else ""
        bindings.setdefault(f"{port}/{proto or 'tcp'}", []).append({"HostIp": host_ip, "HostPort": host_port})
    return bindings, {key: {} for key in bindings}


def create_body(opts: Any, *, attach: bool) -> dict[str, Any]:
    """The engine's RunOptions → ``POST /containers/create``'s body (dockerapi.translate's inverse)."""
    from dockyard.engine.options import parse_volume

    bindings, exposed = _port_bindings(list(getattr(opts, "ports", []) or []))
    # checked here, as the engine would: the API reads a relative source as a named volume
    binds = [f"{h}:{c}:{'ro' if ro else 'rw'}" for h, c, ro in map(parse_volume, opts.volumes)]
    runtime = opts.runtime or os.environ.get("DOCKYARD_RUNTIME") or None  # the engine here would read ours
    host: dict[str, Any] = {
        "Binds": binds, "NetworkMode": opts.network, "AutoRemove": opts.auto_remove,
        "Tmpfs": {t.partition(":")[0]: t.partition(":")[2] for t in opts.tmpfs},
        "PortBindings": bindings, "PublishAllPorts": bool(getattr(opts, "publish_all", False)),
        "Memory": opts.memory or 0, "NanoCpus": int((opts.cpus or 0) * 1e9), "PidsLimit": opts.pids_limit,
        "ReadonlyRootfs": opts.read_only, "CapAdd": list(opts.cap_add), "CapDrop": list(opts.cap_drop),
        "SecurityOpt": list(opts.security_opt), **({"Runtime": runtime} if runtime else {}),
    }
    body: dict[str, Any] = {
        "Image": opts.image, "Cmd": opts.command, "Entrypoint": opts.entrypoint, "Env": client_env(opts.env),
        "WorkingDir": opts.workdir or "", "User": opts.user or "", "Hostname": opts.hostname or "",
        "Tty": opts.tty, "OpenStdin": opts.interactive, "AttachStdin": attach and opts.interactive,
        "AttachStdout": attach, "AttachStderr": attach, "Labels": dict(opts.labels), "ExposedPorts": exposed,
        "HostConfig": host,
    }
    aliases = list(getattr(opts, "network_aliases", []) or [])
    if aliases:
        body["NetworkingConfig"] = {"EndpointsConfig": {opts.network: {"Aliases": aliases}}}
    return body


def _fail(e: DockyardError) -> SystemExit:
    """As daemonless: 126/127 when the command could not be run, else 125."""
    from dockyard.engine.execs import exec_failure_code

    if not getattr(e, "exec_failure", 0):
        e.exec_failure = exec_failure_code(str(e))  # type: ignore[attr-defined]
    return output.fail(e)


@click.command(context_settings=output.CONTEXT)
@click.option("--rm", "auto_remove", is_flag=True, help="Remove the container when it exits.")
@click.option("-d", "--detach", is_flag=True, help="Run in the background and print the container id.")
@local.run_options
@click.pass_obj
def run(client: Client, image: str, command: tuple[str, ...], auto_remove: bool, detach: bool, **kw: Any) -> None:
    """Create and start a container; attach to it unless -d."""
    if kw["sandbox"] or any(kw.get(k) for k in _LOCAL_ONLY):
        raise GoLocal("run flags the Docker API cannot carry")
    try:
        opts = fastrun.build_options(image, command, kw, auto_remove=auto_remove)
        body = create_body(opts, attach=not detach)
        cid = client.post("/containers/create", body, name=opts.name)["Id"]
    except DockyardError as e:
        raise _fail(e) from None
    if detach:
        _start(client, cid)
        click.echo(cid)
        return
    output.exit_with(attached(client, cid, interactive=opts.interactive, tty=opts.tty, auto_remove=auto_remove))


def _start(client: Client, cid: str, *, remove_on_failure: bool = True) -> None:
    try:
        client.post(f"/containers/{cid}/start")
    except DockyardError as e:
        if not remove_on_failure:  # `start -a`: an existing container stays, the error is a plain one
            raise
        _quietly(client.delete, f"/containers/{cid}", force=True)
        raise _fail(e) from None


def attached(client: Client, cid: str, *, interactive: bool, tty: bool, auto_remove: bool, created: bool = True
             ) -> int:
    """Attach, register the wait, start, stream until the output ends; the container's exit code.

    *created*: ``run`` made this container (remove it if it cannot start); False for ``start -a``."""
    import json

    try:
        sock, initial, _ = client.hijack(f"/containers/{cid}/attach",
                                         {"stream": True, "stdout": True, "stderr": True, "stdin": interactive})
        waiter = client.open("POST", f"/containers/{cid}/wait",
                             {"condition": "removed" if auto_remove else "next-exit"})
    except DockyardError as e:
        if not created:
            raise
        _quietly(client.delete, f"/containers/{cid}", force=True)
        raise _fail(e) from None
    _start(client, cid, remove_on_failure=created)
    streams.forward_signals(lambda signum: _quietly(client.post, f"/containers/{cid}/kill", signal=signum), tty=tty)
    with streams.raw_terminal() if tty and interactive else contextlib.nullcontext():
        if tty:
            streams.follow_size(lambda h, w: _quietly(client.post, f"/containers/{cid}/resize", h=h, w=w))
        if interactive:
            streams.feed_stdin(sock)
        reader = streams.SocketReader(sock, initial)
        streams.copy_output(reader.read, reader.read1, tty=tty)
    sock.close()
    try:
        return int(json.loads(waiter.read())["StatusCode"])
    except (ValueError, KeyError, TypeError, OSError):
        return 125
    finally:
        waiter.close()


def _quietly(call: Callable[..., Any], *args: Any, **kw: Any) -> None:
    """A side request (kill, resize) whose failure must not end the stream: the container may be gone."""
    try:
        call(*args, **kw)
    except DockyardError:
        pass
