"""What a build is asked to do (``dockyard build``'s flags, as data) and what it produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.base.digest import Digest
from dockyard.oci.images import LayerBlob

#: build args docker accepts without an ARG line; kept out of history and cache keys
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})


@dataclass
class BuildOptions:
    context: Path
    dockerfile: Path | None = None
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    secrets: dict[str, Path] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    platform: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    source_date_epoch: float | None = None
    compression: str = "gzip"


@dataclass
class BuildResult:
    digest: Digest                      # manifest digest
    image_id: Digest                    # config digest, what `docker images` shows
    config: dict[str, Any]
    layers: list[LayerBlob]
    steps_run: int = 0                  # RUN steps executed (not cached)
    steps_cached: int = 0
    warnings: list[str] = field(default_factory=list)


def parse_secret(spec: str) -> tuple[str, Path]:
    """``id=token,src=./token.txt`` (also ``source=``, ``type=file``) → (id, path)."""
    from dockyard.base.errors import InvalidArgument

    fields = dict(part.split("=", 1) for part in spec.split(",") if "=" in part)
    sid = fields.get("id")
    src = fields.get("src") or fields.get("source")
    if fields.get("type", "file") != "file":
        raise InvalidArgument(f"--secret {spec}: only type=file is supported")
    if not sid or not src:
        raise InvalidArgument(f"--secret {spec}: expected id=<id>,src=<file>")
    return sid, Path(src).expanduser()
