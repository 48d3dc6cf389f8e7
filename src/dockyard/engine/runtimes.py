"""Which low-level runtime runs a container: ours (``dockyard-runc``), ``runc`` or ``crun``.

They share runc's command line, so a runtime is just an argv prefix: the binary and a ``--root``
of its own under the state dir.  The default is ``dockyard``; ``DOCKYARD_RUNTIME`` or
``--runtime`` choose another.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dockyard.base.errors import FailedPrecondition, InvalidArgument

RUNTIMES = ("dockyard", "runc", "crun")


def default_runtime() -> str:
    return os.environ.get("DOCKYARD_RUNTIME") or "dockyard"


def binary(name: str) -> list[str]:
    if name not in RUNTIMES:
        raise InvalidArgument(f"--runtime {name!r}: unknown; use one of {', '.join(RUNTIMES)}")
    if name == "dockyard":
        path = Path(sys.executable).parent / "dockyard-runc"
        found = str(path) if path.exists() else _which("dockyard-runc")
        if not found:  # not installed as a script (e.g. run from a source tree): run the module
            src = str(Path(__file__).resolve().parents[2])
            return [sys.executable, "-S", "-c",
                    f"import sys; sys.path.insert(0, {src!r}); from dockyard.runtime.cli import main; "
                    "sys.exit(main(sys.argv[1:]))"]
        return [found]
    else:
        found = _which(name) or next(
            (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)
    if not found:
        raise FailedPrecondition(f"runtime {name!r}: its binary is not installed; pick another with --runtime")
    return [found]


def _which(name: str) -> str | None:
    import shutil  # here: it imports bz2 and lzma (~1 ms), and the usual runtime is found without it

    return shutil.which(name)


def argv(name: str, state_dir: Path) -> list[str]:
    return [*binary(name), "--root", str(state_dir / "runtime" / name)]
