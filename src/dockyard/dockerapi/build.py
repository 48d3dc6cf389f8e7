"""``POST /build``: a tar context in, our builder runs it, docker's JSON progress out.

The context (plain or gzip tar) is extracted with tarfile's ``tar`` filter into a temporary
directory under the data root; the :class:`~dockyard.build.executor.Builder` runs in a worker
thread and its plain progress lines become ``{"stream": "…\\n"}`` objects.  The image ID goes out
as ``{"aux": {"ID": …}}`` followed by docker's ``Successfully built``/``tagged`` lines; a failure
is an ``{"errorDetail": …}`` line (the status is already 200 once the stream started).
"""

from __future__ import annotations

import asyncio
import json
import tarfile
import tempfile
from pathlib import Path

from aiohttp import web

from dockyard.base.errors import InvalidArgument
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import qbool
from dockyard.dockerapi.hijack import prepare_now
from dockyard.dockerapi.routing import Routes


class _Lines:
    """A text sink for the builder's progress, feeding the event loop's queue from a thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        self.loop, self.queue = loop, queue

    def write(self, text: str) -> int:
        if text:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, {"stream": text})
        return len(text)

    def flush(self) -> None: ...


def _json_arg(request: web.Request, name: str) -> dict[str, str]:
    raw = request.query.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"build: {name} is not valid JSON") from None
    return {k: v for k, v in value.items() if v is not None}


def _extract(data: bytes, dest: Path) -> None:
    import io

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            tar.extractall(dest, filter="tar")
    except tarfile.TarError as e:
        raise InvalidArgument(f"build context: not a tar archive ({e})") from None


async def build(request: web.Request) -> web.StreamResponse:
    from dockyard.build.executor import Builder
    from dockyard.build.options import BuildOptions
    from dockyard.build.progress import Progress

    backend = request.app[BACKEND]
    if request.query.get("remote"):
        raise InvalidArgument("build: remote contexts are not supported; send the context as a tar")
    tags = request.query.getall("t", [])
    data = await request.content.read()
    tmp = tempfile.TemporaryDirectory(dir=backend.data_root, prefix="build-context-")
    ctx = Path(tmp.name)
    resp = None
    try:
        await backend.run(_extract, data, ctx)
        dockerfile = request.query.get("dockerfile") or "Dockerfile"
        opts = BuildOptions(context=ctx, dockerfile=ctx / dockerfile, tags=tags,
                            build_args=_json_arg(request, "buildargs"), target=request.query.get("target") or None,
                            no_cache=qbool(request, "nocache"), pull=qbool(request, "pull"),
                            labels=_json_arg(request, "labels"))
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await prepare_now(resp, request)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        quiet = qbool(request, "q")
        progress = Progress("quiet" if quiet else "plain", out=_Lines(loop, queue))  # type: ignore[arg-type]
        job = asyncio.ensure_future(backend.run(lambda: Builder(data_root=backend.data_root,
                                                                state_dir=backend.state_dir,
                                                                progress=progress).build(opts)))
        while not (job.done() and queue.empty()):
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, job}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                await resp.write(json.dumps(getter.result()).encode() + b"\r\n")
            else:
                getter.cancel()
        if job.exception() is not None:
            msg = str(job.exception())
            await resp.write(json.dumps({"errorDetail": {"message": msg}, "error": msg}).encode() + b"\r\n")
        else:
            result = job.result()
            lines = [{"aux": {"ID": str(result.image_id)}}]
            if not quiet:
                lines.append({"stream": f"Successfully built {result.image_id.short}\n"})
                lines += [{"stream": f"Successfully tagged {t if ':' in t.rsplit('/', 1)[-1] else t + ':latest'}\n"}
                          for t in tags]
            for line in lines:
                await resp.write(json.dumps(line).encode() + b"\r\n")
            backend.events.emit("image", "build", str(result.image_id), {"name": ",".join(tags)})
        await resp.write_eof()
        return resp
    finally:
        await backend.run(tmp.cleanup)


async def prune_cache(request: web.Request) -> web.Response:
    return web.json_response({"CachesDeleted": None, "SpaceReclaimed": 0})


def register(routes: Routes) -> None:
    routes.post("/build", build)
    routes.post("/build/prune", prune_cache)
