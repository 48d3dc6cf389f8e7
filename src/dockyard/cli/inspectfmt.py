"""``inspect`` output shared by the container and network verbs: JSON, or ``-f '{{.A.B}}'`` per doc."""

from __future__ import annotations

import json
import re
from typing import Any

import click

_FIELD = re.compile(r"\{\{\s*\.([\w.]+)\s*\}\}")


def echo_docs(docs: list[dict[str, Any]], fmt: str | None) -> None:
    if not fmt:
        click.echo(json.dumps(docs, indent=4))
        return
    for doc in docs:
        def field(m: re.Match[str], doc: dict[str, Any] = doc) -> str:
            value: Any = doc
            for part in m.group(1).split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            return json.dumps(value) if isinstance(value, dict | list) else str(value)

        click.echo(_FIELD.sub(field, fmt))
