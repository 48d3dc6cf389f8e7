"""OCI hooks: run each hook's program with the container state as JSON on stdin.

Where each kind runs (runtime spec "Lifecycle"): prestart and createRuntime in the runtime's
namespaces after the container's namespaces exist; createContainer and startContainer inside the
container (the init calls :func:`run` itself); poststart after ``start``; poststop after
``delete``.  A failing hook fails the step it belongs to, except poststart/poststop, which are
only reported (as runc warns).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from dockyard.base.errors import FailedPrecondition


class HookFailed(FailedPrecondition):
    pass


def run(kind: str, hooks: dict[str, list[dict[str, Any]]] | None, state: dict[str, Any]) -> None:
    for i, h in enumerate((hooks or {}).get(kind) or []):
        args = h.get("args") or [h["path"]]
        env = dict(e.split("=", 1) for e in h.get("env") or [] if "=" in e)
        try:
            proc = subprocess.run(args, executable=h["path"], input=json.dumps(state).encode(), env=env,
                                  capture_output=True, timeout=h.get("timeout") or None, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise HookFailed(f"config.json: hooks.{kind}[{i}] {h['path']!r}: {e}") from None
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise HookFailed(f"config.json: hooks.{kind}[{i}] {h['path']!r}: exited {proc.returncode}"
                             + (f": {err[-1]}" if err else ""))


def run_quietly(kind: str, hooks: dict[str, list[dict[str, Any]]] | None, state: dict[str, Any]) -> None:
    try:
        run(kind, hooks, state)
    except HookFailed as e:
        os.write(2, f"warning: {e}\n".encode())
