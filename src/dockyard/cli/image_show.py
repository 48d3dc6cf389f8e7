"""How ``dockyard images``, ``image history`` and ``image inspect`` print, the way docker does.

Sizes use decimal units with three significant digits (``4.26MB``) and ages read "2 hours ago",
so scripts and eyes used to docker's output find what they expect.  Kept apart from the command
definitions so the formatting rules are easy to find and test.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

from dockyard.base.clock import rfc3339
from dockyard.oci import names
from dockyard.oci.images import ImageRecord, ImageStore
from dockyard.oci.manifest import config_history, runtime_config


def human_size(size: float) -> str:
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.3g}{units[i]}"


def human_duration(seconds: float) -> str:
    s = int(seconds)
    minutes, hours = int(seconds / 60), int(seconds / 3600 + 0.5)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def since(ts: float) -> str:
    return "N/A" if ts <= 0 else f"{human_duration(time.time() - ts)} ago"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell plus three spaces, like docker's tabwriter output."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["   ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [headers, *rows]]
    return "\n".join(lines)


def image_rows(record: ImageRecord) -> list[dict[str, str]]:
    """One row per name (docker lists an image once per repository:tag), or one ``<none>`` row."""
    tags = [names.split_tag(names.familiar(n)) for n in record.names] or [("<none>", "<none>")]
    return [{
        "Repository": repo, "Tag": tag, "ID": record.short_id, "Digest": str(record.digest),
        "CreatedAt": rfc3339(record.created) if record.created else "",
        "CreatedSince": since(record.created), "Size": human_size(record.size),
    } for repo, tag in tags]


def inspect_doc(images: ImageStore, record: ImageRecord) -> dict[str, Any]:
    manifest, config = images.manifest_for(record)
    repos = {names.parse(n).repository for n in record.names}
    return {
        "Id": str(record.id),
        "RepoTags": [names.familiar(n) for n in record.names],
        "RepoDigests": sorted(f"{names.familiar(r)}@{record.digest}" for r in repos),
        "Created": config.get("created", ""),
        "Author": config.get("author", ""),
        "Architecture": config.get("architecture", ""),
        **({"Variant": config["variant"]} if config.get("variant") else {}),
        "Os": config.get("os", ""),
        "Size": record.size,
        "Config": runtime_config(config),
        "RootFS": {"Type": "layers", "Layers": [str(d) for d in (config.get("rootfs") or {}).get("diff_ids", [])]},
        "Descriptor": {"mediaType": record.media_type, "digest": str(record.digest),
                       "size": images.content.size(record.digest)},
        "Manifest": {"mediaType": manifest.media_type,
                     "layers": [{"mediaType": la.media_type, "digest": str(la.digest), "size": la.size}
                                for la in manifest.layers]},
    }


def history_rows(images: ImageStore, record: ImageRecord) -> list[dict[str, Any]]:
    """Newest first; a history entry with a layer gets that layer's size, the top one the image ID."""
    manifest, config = images.manifest_for(record)
    layers = list(manifest.layers)
    entries = config_history(config) or [{"created": config.get("created", "")} for _ in layers]
    rows: list[dict[str, Any]] = []
    for entry in entries:
        size = 0
        if not entry.get("empty_layer") and layers:
            size = layers.pop(0).size
        rows.append({"CreatedAt": entry.get("created", ""), "CreatedBy": entry.get("created_by", ""),
                     "Size": size, "Comment": entry.get("comment", "")})
    rows.reverse()
    for i, row in enumerate(rows):
        row["ID"] = str(record.id) if i == 0 else "<missing>"
    return rows


_FIELD = re.compile(r"\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}")


def render_template(template: str, doc: dict[str, Any]) -> str:
    """The ``{{.Field.Sub}}`` and ``{{json .Field}}`` subset of docker's Go templates."""
    def value(m: re.Match[str]) -> str:
        v: Any = doc
        for part in filter(None, m.group(2).split(".")):
            v = v.get(part, "") if isinstance(v, dict) else ""
        if m.group(1) or isinstance(v, dict):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + " ".join(map(str, v)) + "]"
        return str(v)
    return _FIELD.sub(value, template).replace("\\n", "\n").replace("\\t", "\t")
