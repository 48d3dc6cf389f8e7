"""``dockyard.net.netlink``: pyroute2's rtnetlink client without the package-wide import, and the
package still whole for anyone who asks for more (in a fresh interpreter: imports are global)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from dockyard.net import netlink

with netlink.iproute() as ipr:
    assert ipr.link_lookup(ifname="lo") == [1]
print(sorted(m for m in ("pyroute2.ndb", "pyroute2.ipdb", "pyroute2.conntrack") if m in sys.modules))
assert issubclass(netlink.netlink_error(), Exception)

import pyroute2
from pyroute2 import NDB, IPRoute, config  # a public name runs the deferred __init__; a submodule does not
from pyroute2.iproute.linux import IPRoute as Linux

assert IPRoute is Linux and NDB.__name__ == "NDB" and pyroute2.__version__
print("whole")
"""


def test_only_rtnetlink_is_imported_and_the_package_stays_usable() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    assert out == "[]\nwhole\n"
