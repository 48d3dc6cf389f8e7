"""What a user sees: rate limits with the retry time, and progress on a terminal or in a log."""

from __future__ import annotations

import io

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dockyard.base.errors import ResourceExhausted
from dockyard.oci.images import ImageStore
from dockyard.oci.names import parse
from dockyard.registry.client.progress import PlainProgress, Progress, TtyProgress, for_terminal
from dockyard.registry.client.pull import pull
from dockyard.registry.client.settings import ClientSettings


async def test_rate_limit_names_the_retry_time(data_root):
    async def ping(request):
        return web.json_response({})

    async def limited(request):
        return web.json_response({"errors": [{"code": "TOOMANYREQUESTS", "message": "pull rate limit"}]},
                                 status=429, headers={"Retry-After": "42"})

    app = web.Application()
    app.router.add_get("/v2/", ping)
    app.router.add_get("/v2/{tail:.*}", limited)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    images = ImageStore(data_root)
    try:
        with pytest.raises(ResourceExhausted, match="retry after 42 seconds") as info:
            await pull(parse(f"127.0.0.1:{server.port}/app:v1"), images=images,
                       settings=ClientSettings.load(data_root), credentials=None, progress=Progress())
        assert "TOOMANYREQUESTS" in str(info.value)
    finally:
        images.close()
        await server.close()


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_kinds():
    assert type(for_terminal(quiet=True)) is Progress
    assert isinstance(for_terminal(quiet=False, out=io.StringIO()), PlainProgress)
    assert isinstance(for_terminal(quiet=False, out=FakeTty()), TtyProgress)


def test_tty_progress_redraws_bars_in_place():
    out = FakeTty()
    p = TtyProgress(out)
    p.start("aaaaaaaaaaaa", "Downloading", 2_000_000)
    p.start("bbbbbbbbbbbb", "Downloading", 1000)
    p.advance("aaaaaaaaaaaa", 1_000_000)
    p.done("bbbbbbbbbbbb", "Pull complete")
    text = out.getvalue()
    assert "\x1b[2A" in text  # moved up over the two lines to redraw them
    assert "aaaaaaaaaaaa: Downloading [" in text and "bbbbbbbbbbbb: Pull complete\n" in text


def test_plain_progress_is_one_line_per_state():
    out = io.StringIO()
    p = PlainProgress(out)
    p.start("abc", "Downloading", 10)
    p.advance("abc", 5)
    p.done("abc", "Pull complete")
    assert out.getvalue() == "abc: Downloading\nabc: Pull complete\n"
