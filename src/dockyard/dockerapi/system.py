"""``/_ping``, ``/version``, ``/info``, ``/system/df``: how clients find us and our API version.

``/_ping`` answers ``API-Version``; clients use min(theirs, ours) for every later path.  The
``Server`` header and ``Components`` say who we are, so nobody mistakes us for dockerd.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from aiohttp import web

import dockyard
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.routing import API_VERSION, MIN_VERSION, Routes

HEADERS = {"API-Version": API_VERSION, "Docker-Experimental": "false", "Ostype": "linux",
           "Server": f"dockyard/{dockyard.__version__}", "Cache-Control": "no-cache, no-store, must-revalidate",
           "Pragma": "no-cache"}


def _version_error(text: str | None) -> str | None:
    """Docker's refusal of a ``/vX.Y`` prefix outside [MIN_VERSION, API_VERSION] (clients negotiate first)."""
    if not text:
        return None
    asked = tuple(int(p) for p in text.split("."))
    if asked < tuple(int(p) for p in MIN_VERSION.split(".")):
        return (f"client version {text} is too old. Minimum supported API version is {MIN_VERSION}, "
                "please upgrade your client to a newer version")
    if asked > tuple(int(p) for p in API_VERSION.split(".")):
        return f"client version {text} is too new. Maximum supported API version is {API_VERSION}"
    return None


@web.middleware
async def headers_middleware(request: web.Request, handler):
    refused = _version_error(request.match_info.get("version"))
    if refused:
        from dockyard.dockerapi.errors import error_response

        resp = error_response(400, refused)
        resp.headers.update(HEADERS)
        return resp
    resp = await handler(request)
    if not resp.prepared:
        for k, v in HEADERS.items():
            resp.headers.setdefault(k, v)
    return resp


async def ping(request: web.Request) -> web.Response:
    return web.Response(text="OK" if request.method == "GET" else "", content_type="text/plain",
                        headers=HEADERS)


def _version_doc() -> dict:
    uname = os.uname()
    return {
        "Platform": {"Name": "dockyard"},
        "Components": [{"Name": "Engine", "Version": dockyard.__version__,
                        "Details": {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_VERSION,
                                    "Os": "linux", "Arch": _arch(), "KernelVersion": uname.release}}],
        "Version": dockyard.__version__, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_VERSION,
        "GitCommit": "", "GoVersion": f"python{platform.python_version()}", "Os": "linux", "Arch": _arch(),
        "KernelVersion": uname.release, "BuildTime": "",
    }


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


async def version(request: web.Request) -> web.Response:
    return web.json_response(_version_doc())


async def info(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]

    def gather(engine) -> dict:
        recs = engine.store.list()
        states = [engine.status(r).status for r in recs]
        return {"Containers": len(recs), "ContainersRunning": states.count("running"),
                "ContainersPaused": 0, "ContainersStopped": len(recs) - states.count("running"),
                "Images": len(engine.images.list())}

    counts = await backend.call(gather)
    uname = os.uname()
    return web.json_response({
        "ID": _daemon_id(backend.data_root), **counts, "Driver": "overlay", "DriverStatus": [],
        "DockerRootDir": str(backend.data_root), "Name": uname.nodename,
        "OperatingSystem": _os_name(), "OSType": "linux", "Architecture": platform.machine(),
        "KernelVersion": uname.release, "NCPU": os.cpu_count() or 1,
        "MemTotal": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "ServerVersion": dockyard.__version__, "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
        "LoggingDriver": "json-file", "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
                                                  "Log": ["json-file"]},
        "MemoryLimit": True, "SwapLimit": False, "CpuCfsPeriod": True, "CpuCfsQuota": True,
        "PidsLimit": True, "IPv4Forwarding": True, "Debug": False, "NFd": len(os.listdir("/proc/self/fd")),
        "NGoroutines": 0, "SystemTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "Runtimes": {"dockyard": {"path": "dockyard-runc"}, "runc": {"path": "runc"}},
        "DefaultRuntime": "dockyard", "Swarm": {"LocalNodeState": "inactive"}, "Labels": [],
        "SecurityOptions": ["name=seccomp,profile=builtin"], "Warnings": None,
        "RegistryConfig": await backend.run(_registry_config, backend.data_root),
    })


def _registry_config(data_root: Path) -> dict:
    """What ``docker info`` shows under Registry Mirrors / Insecure Registries: the pull settings in force."""
    from dockyard.registry.client.settings import ClientSettings

    settings = ClientSettings.load(data_root)
    return {"IndexConfigs": {h: {"Name": h, "Mirrors": [], "Secure": False, "Official": False}
                             for h in sorted(settings.insecure_registries)},
            "InsecureRegistryCIDRs": ["127.0.0.0/8"] if settings.loopback_insecure else [],
            "Mirrors": list(settings.mirrors)}


def _daemon_id(root) -> str:
    path = root / "daemon-id"
    try:
        return path.read_text().strip()
    except OSError:
        import uuid

        ident = str(uuid.uuid4()).upper()
        path.write_text(ident)
        return ident


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


async def df(request: web.Request) -> web.Response:
    from dockyard.dockerapi import containers, images, volumes

    backend = request.app[BACKEND]
    imgs = await backend.call(lambda eng: [images.summary(eng.images, r) for r in eng.images.list()])
    ctrs = await containers.list_docs(backend, all_=True, flt={})
    vols = await backend.run(volumes.list_docs, backend.data_root)
    return web.json_response({"LayersSize": sum(i["Size"] for i in imgs), "Images": imgs, "Containers": ctrs,
                              "Volumes": vols, "BuildCache": []})


def register(routes: Routes) -> None:
    routes.add("GET", "/_ping", ping)
    routes.add("HEAD", "/_ping", ping)
    routes.get("/version", version)
    routes.get("/info", info)
    routes.get("/system/df", df)
