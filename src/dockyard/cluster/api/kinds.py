"""The kinds the API server serves, as data: one row per resource, plus those CRDs add at run time.

Everything else (discovery documents, URL routing, storage keys, tables, OpenAPI) is derived from
these rows, so serving a new built-in kind means adding one line here (and, if it has special
columns, defaults or validation, a function in the module for that concern).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ScalePaths:
    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = ".status.selector"


@dataclass(frozen=True, slots=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status: bool = False
    scale: ScalePaths | None = None
    #: For custom resources: the CRD's schema and printer columns.
    schema: dict | None = field(default=None, compare=False, hash=False)
    printer_columns: tuple[dict, ...] = field(default=(), compare=False, hash=False)
    crd: bool = False
    #: A review (SelfSubjectAccessReview …): create-only, answered at once, never stored.
    review: bool = False
    #: Served in this version but stored as ``storage_version`` of the same group and plural
    #: (autoscaling/v1 HPA is stored as v2); :mod:`.conversion` converts both ways.
    storage_version: str = ""

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gvk(self) -> tuple[str, str, str]:
        return (self.group, self.version, self.kind)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def verbs(self) -> list[str]:
        if self.review:
            return ["create"]
        return ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    def storage_prefix(self, namespace: str | None = None) -> str:
        """``/registry/<group>/<plural>/[<namespace>/]`` — etcd's layout, so an etcd user recognises it."""
        base = f"/registry/{self.group or 'core'}/{self.plural}/"
        return base + f"{namespace}/" if self.namespaced and namespace else base

    def key(self, namespace: str | None, name: str) -> str:
        return f"{self.storage_prefix(namespace if self.namespaced else None)}{name}"


_ALL = ("all",)
_SCALE = ScalePaths()

BUILTIN: tuple[Kind, ...] = (
    Kind("", "v1", "Namespace", "namespaces", namespaced=False, short_names=("ns",), status=True),
    Kind("", "v1", "Pod", "pods", short_names=("po",), categories=_ALL, status=True),
    Kind("", "v1", "Service", "services", short_names=("svc",), categories=_ALL, status=True),
    Kind("", "v1", "Endpoints", "endpoints", short_names=("ep",)),
    Kind("", "v1", "ConfigMap", "configmaps", short_names=("cm",)),
    Kind("", "v1", "Secret", "secrets"),
    Kind("", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",)),
    Kind("", "v1", "Event", "events", short_names=("ev",)),
    Kind("", "v1", "Node", "nodes", namespaced=False, short_names=("no",), status=True),
    Kind("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), status=True),
    Kind("", "v1", "ReplicationController", "replicationcontrollers", short_names=("rc",), categories=_ALL,
         status=True, scale=_SCALE),
    Kind("apps", "v1", "Deployment", "deployments", short_names=("deploy",), categories=_ALL,
         status=True, scale=_SCALE),
    Kind("apps", "v1", "ReplicaSet", "replicasets", short_names=("rs",), categories=_ALL,
         status=True, scale=_SCALE),
    Kind("apps", "v1", "StatefulSet", "statefulsets", short_names=("sts",), categories=_ALL,
         status=True, scale=_SCALE),
    Kind("apps", "v1", "DaemonSet", "daemonsets", short_names=("ds",), categories=_ALL, status=True),
    Kind("batch", "v1", "Job", "jobs", categories=_ALL, status=True),
    Kind("batch", "v1", "CronJob", "cronjobs", short_names=("cj",), categories=_ALL, status=True),
    Kind("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
         categories=_ALL, status=True),
    Kind("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
         categories=_ALL, status=True, storage_version="v2"),
    Kind("", "v1", "ResourceQuota", "resourcequotas", short_names=("quota",), status=True),
    Kind("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short_names=("pc",)),
    Kind("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",), status=True),
    Kind("networking.k8s.io", "v1", "Ingress", "ingresses", short_names=("ing",), status=True),
    Kind("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    Kind("coordination.k8s.io", "v1", "Lease", "leases"),
    Kind("events.k8s.io", "v1", "Event", "events", short_names=("ev",)),
    Kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
         namespaced=False, short_names=("crd", "crds"), status=True),
    Kind("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced=False,
         review=True),
    Kind("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", namespaced=False, review=True),
    Kind("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    Kind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    Kind("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    Kind("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
)


class Registry:
    """Served kinds by (group, version, plural); CRDs register and unregister theirs at run time."""

    def __init__(self, kinds: tuple[Kind, ...] = BUILTIN) -> None:
        self._by_resource: dict[tuple[str, str, str], Kind] = {}
        for k in kinds:
            self.add(k)

    def add(self, kind: Kind) -> None:
        self._by_resource[(kind.group, kind.version, kind.plural)] = kind

    def remove_group_resource(self, group: str, plural: str) -> None:
        for key in [key for key in self._by_resource if key[0] == group and key[2] == plural]:
            del self._by_resource[key]

    def lookup(self, group: str, version: str, plural: str) -> Kind | None:
        return self._by_resource.get((group, version, plural))

    def by_gvk(self, group: str, version: str, kind: str) -> Kind | None:
        for k in self._by_resource.values():
            if (k.group, k.version, k.kind) == (group, version, kind):
                return k
        return None

    def all(self) -> list[Kind]:
        return list(self._by_resource.values())

    def groups(self) -> dict[str, list[str]]:
        """group → versions served (core group is ``""``), in registration order."""
        out: dict[str, list[str]] = {}
        for k in self._by_resource.values():
            versions = out.setdefault(k.group, [])
            if k.version not in versions:
                versions.append(k.version)
        return out
