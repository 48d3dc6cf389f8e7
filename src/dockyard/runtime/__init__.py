"""dockyard-runc: a low-level OCI runtime with runc's command-line contract.

A bundle (``config.json`` + rootfs) goes in; namespaces, mounts, pivot_root, cgroups, capabilities
and a seccomp filter come out, around a process that waits on an exec fifo until ``start``.  The
engine drives it exactly as it drives runc or crun.  This package sits on the hot path of every
container start, so it imports little: no asyncio, no click, only ``os``, ``json`` and ``ctypes``.
"""
