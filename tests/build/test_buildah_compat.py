"""The corpus built by dockyard and by `buildah bud` from the same busybox: same files, same config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .corpus import CASES, Case
from .helpers import (
    Buildah,
    bootstrap_busybox,
    config_view,
    dockyard_build,
    image_rootfs,
    snapshot,
    write_tree,
)

pytestmark = [pytest.mark.privileged, pytest.mark.e2e, pytest.mark.slow]

#: what buildah's chroot isolation leaves behind and docker's builder does not
BUILDAH_ONLY = ("run", "etc/resolv.conf", "etc/hostname")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("buildah") is None:
        pytest.fail("buildah is not installed; run `make deps` (CI installs it)")
    base = tmp_path_factory.mktemp("compat")
    data_root = base / "root"
    bootstrap_busybox(data_root)
    bh = Buildah(base / "buildah")
    bh.load_base(data_root)
    yield base, data_root, bh
    bh.cleanup()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_result_as_buildah(case: Case, env, state_dir: Path) -> None:
    base, data_root, bh = env
    ctx = write_tree(base / case.name / "ctx", case.files)
    for link, target in case.symlinks.items():
        (ctx / link).symlink_to(target)
    secrets = {}
    for sid, content in case.secrets.items():
        secrets[sid] = write_tree(base / case.name / "secrets", {sid: content}) / sid
    tag = f"compat-{case.name.replace('_', '-')}"
    result = dockyard_build(data_root, state_dir, ctx, tags=[tag], build_args=case.build_args,
                            secrets=secrets, target=case.target)
    extra = [a for k, v in case.build_args.items() for a in ("--build-arg", f"{k}={v}")]
    extra += [a for k, p in secrets.items() for a in ("--secret", f"id={k},src={p}")]
    bh.bud(ctx, tag, *extra)

    ours, our_config = image_rootfs(data_root, tag, base / case.name / "ours")
    theirs, their_config = bh.rootfs(tag, base / case.name / "theirs")
    ignore = BUILDAH_ONLY + case.ignore
    mine, other = snapshot(ours, ignore=ignore), snapshot(theirs, ignore=ignore)
    assert sorted(set(mine) ^ set(other)) == []
    assert {p: v for p, v in mine.items() if other[p] != v} == {p: v for p, v in other.items() if mine[p] != v}
    assert config_view(our_config) == config_view(their_config)
    for secret in case.secrets.values():
        assert not any(secret.encode() in (v[4] or b"") for v in mine.values() if isinstance(v[4], bytes))
        assert secret.strip() not in str(our_config)
    assert result.image_id.short in str(result.image_id)
