"""pyroute2's rtnetlink client, imported for about half of what ``import pyroute2`` costs.

``pyroute2/__init__.py`` imports every family the library speaks — conntrack, IPDB/NDB, nl80211,
wireguard, ipvs, plan9 … — ~120 ms, paid by every ``dockyard run`` on a bridge.  We use only
rtnetlink (links, addresses, routes: ``pyroute2.iproute.linux``, ~65 ms of which asyncio, which
pyroute2's core is built on, is a third).  Importing a submodule runs its package's ``__init__``
first, so :func:`_register_package` puts the package in ``sys.modules`` *without* running it: a
module with pyroute2's ``__path__``, through which submodules import as usual.  Its ``__init__`` is
only deferred, not skipped: the first time anyone asks the package for a name that is not a
submodule (``from pyroute2 import NDB``), it runs into that same module object.

Everything here is imported lazily by its users (:func:`iproute`), so reading ``net.db`` — ``ps``,
``network ls`` — never pays for netlink at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dockyard.base.errors import FailedPrecondition

if TYPE_CHECKING:
    from pyroute2.iproute.linux import IPRoute

_lock = threading.RLock()


def _register_package() -> None:
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise FailedPrecondition("pyroute2: not installed; pip install pyroute2")
    package = importlib.util.module_from_spec(spec)  # __path__, __spec__, __file__: not executed

    def __getattr__(name: str) -> Any:
        if name.startswith("__") and name not in ("__all__", "__version__"):
            raise AttributeError(name)  # probes (__wrapped__, …) need not pay for the whole package
        if importlib.util.find_spec(f"pyroute2.{name}") is not None:  # `from pyroute2 import config`
            return importlib.import_module(f"pyroute2.{name}")
        with _lock:  # a public name: now run the package's __init__ after all
            if package.__dict__.get("__getattr__") is __getattr__:
                del package.__dict__["__getattr__"]
                spec.loader.exec_module(package)  # type: ignore[union-attr]
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'pyroute2' has no attribute {name!r}") from None

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["pyroute2"] = package


def _linux() -> ModuleType:
    with _lock:
        _register_package()
        return importlib.import_module("pyroute2.iproute.linux")


def iproute() -> IPRoute:
    """A new rtnetlink socket in the calling thread's network namespace (use it as a context manager)."""
    return _linux().IPRoute()


def netlink_error() -> type[Exception]:
    """pyroute2's ``NetlinkError`` (``.code`` is the errno), for ``except`` clauses."""
    _linux()
    return importlib.import_module("pyroute2.netlink.exceptions").NetlinkError
