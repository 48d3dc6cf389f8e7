"""``run`` = create + start + wait, in the foreground: signals forwarded, the container's exit
code returned (128+N when killed by signal N), the container deleted afterwards.

The runtime makes itself a child subreaper before forking, so the init — orphaned when the
helper exits — is re-parented to it and can be waited for.  With ``process.terminal`` and no
``--console-socket``, the runtime keeps the pty master itself and copies between it and its own
stdio (the foreground `runc run` behaviour).
"""

from __future__ import annotations

import os

from dockyard.runtime import container, libc


def run(root: str, cid: str, bundle: str, *, detach: bool = False, pid_file: str | None = None,
        console_socket: str | None = None, no_pivot: bool = False, terminal: bool = False,
        preserve_fds: int = 0) -> int:
    if detach:
        container.create(root, cid, bundle, pid_file=pid_file, console_socket=console_socket, no_pivot=no_pivot,
                         preserve_fds=preserve_fds)
        try:
            container.start(root, cid)
        except BaseException:
            container.delete(root, cid, force=True)
            raise
        return 0
    libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
    import _signal

    master = -1
    sock_path = console_socket
    listener = None
    if terminal and not console_socket:
        listener, sock_path = _console_listener(root, cid)
    try:
        st = container.create(root, cid, bundle, pid_file=pid_file, console_socket=sock_path, no_pivot=no_pivot,
                              preserve_fds=preserve_fds)
    finally:
        if listener is not None:
            os.unlink(sock_path)
    try:
        if listener is not None:
            from dockyard.runtime import console

            conn, _ = listener.accept()
            master = console.receive(conn.detach())
            listener.close()

        def forward(signum: int, _frame: object) -> None:
            if st.pid <= 0:
                return  # never kill(0, …): that is our own process group
            try:
                os.kill(st.pid, signum)
            except ProcessLookupError:
                pass

        for name in dir(_signal):
            if name.startswith("SIG") and not name.startswith("SIG_") and name not in (
                    "SIGKILL", "SIGSTOP", "SIGCHLD", "SIGCLD", "SIGTTIN", "SIGTTOU", "SIGTSTP", "SIGCONT"):
                try:
                    _signal.signal(getattr(_signal, name), forward)
                except (OSError, ValueError, RuntimeError):
                    pass
        container.start(root, cid)
        if master >= 0:
            from dockyard.runtime.ptyproxy import proxy

            proxy(master, st.pid)
        return _wait(st.pid)
    finally:
        container.delete(root, cid, force=True)


def _console_listener(root: str, cid: str):  # type: ignore[no-untyped-def]
    import socket

    os.makedirs(root, mode=0o711, exist_ok=True)
    path = os.path.join(root, f".console-{cid}-{os.getpid()}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(1)
    return sock, path


def _wait(pid: int) -> int:
    """Reap children (orphans land here too) until ``pid`` exits; its shell-style exit code."""
    while True:
        try:
            got, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 255
        if got == pid:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
