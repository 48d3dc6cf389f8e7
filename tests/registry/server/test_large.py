"""A 1 GB layer pushed and pulled through the server with flat memory (peak RSS measured)."""

from __future__ import annotations

import json
import os
import zlib

import pytest

from ..helpers import serve, write_layout
from .test_skopeo import skopeo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIZE = 1 << 30


def _big_file(path) -> None:
    """~1 GiB of gzip made of stored (level 0) blocks: a valid layer blob, cheap to produce."""
    block = os.urandom(1 << 20)
    gz = zlib.compressobj(0, zlib.DEFLATED, 31)  # skopeo sniffs gzip; plain bytes it would recompress
    with open(path, "wb") as f:
        for i in range(SIZE >> 20):
            f.write(gz.compress(i.to_bytes(8, "little") + block[8:]))
        f.write(gz.flush())


def test_one_gigabyte_layer_with_flat_server_memory(tmp_path):
    big = tmp_path / "big.bin"
    _big_file(big)
    layout = tmp_path / "layout"
    digest = write_layout(layout, "v1", [], layer_files=[big])
    with serve(tmp_path / "root") as reg:
        baseline = reg.vm_hwm_kib()
        dest = f"docker://{reg.host}/big:v1"
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", dest)
        back = tmp_path / "back"
        skopeo("copy", "--src-tls-verify=false", dest, f"oci:{back}:v1")
        peak = reg.vm_hwm_kib()
    assert json.loads((back / "index.json").read_text())["manifests"][0]["digest"] == digest
    # Streaming means the peak grows by buffers, not by the layer: allow 64 MiB over start-up.
    assert peak - baseline < 64 * 1024, (baseline, peak)
    assert peak < 100 * 1024, peak
