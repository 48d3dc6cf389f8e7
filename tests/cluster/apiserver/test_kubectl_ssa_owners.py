"""kubectl apply --server-side after kubectl patch / edit / scale: the later writer owns the field."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.e2e

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
"""


def test_server_side_apply_conflicts_with_later_imperative_writers(server, namespace, tmp_path) -> None:
    ns = ("-n", namespace)
    manifest = tmp_path / "web.yaml"

    def ssa(replicas: int, *extra: str):
        manifest.write_text(MANIFEST.format(replicas=replicas))
        return server.kubectl("apply", *ns, "--server-side", *extra, "-f", str(manifest), check=False)

    def replicas() -> int:
        return json.loads(server.kubectl("get", *ns, "deploy", "web", "-o", "json").stdout)["spec"][
            "replicas"
        ]

    # Client-side first, so the last-applied annotation exists when kubectl switches to server-side.
    manifest.write_text(MANIFEST.format(replicas=1))
    server.kubectl("apply", *ns, "-f", str(manifest))
    assert ssa(1).returncode == 0

    server.kubectl("patch", *ns, "deploy", "web", "-p", '{"spec":{"replicas":2}}')
    out = ssa(3)
    assert out.returncode != 0 and replicas() == 2
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas'
        in out.stderr
    )
    assert ssa(3, "--force-conflicts").returncode == 0 and replicas() == 3

    server.kubectl("edit", *ns, "deploy", "web", env={"KUBE_EDITOR": "sed -i s/replicas:\\ 3/replicas:\\ 4/"})
    out = ssa(5)
    assert 'conflict with "kubectl-edit" using apps/v1: .spec.replicas' in out.stderr and replicas() == 4
    assert ssa(4).returncode == 0  # the same value co-owns instead of conflicting

    server.kubectl("scale", *ns, "deploy", "web", "--replicas=6")
    out = ssa(7)
    assert out.returncode != 0 and replicas() == 6
    assert re.search(
        r'conflict with "kubectl"( with subresource "scale")? using apps/v1: \.spec\.replicas', out.stderr
    )
