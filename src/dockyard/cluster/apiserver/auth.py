"""Authentication (bearer tokens, client certificates) and authorization (a subset of RBAC).

Who: a token from the tokens file (kube's CSV: ``token,user,uid,"group1,group2"``), or the
subject of a client certificate verified against the client CA (CN = user, O = groups).  The
local unix socket, and a server started without any authentication configured, are admin — it is
then bound to loopback only.  Unknown credentials are 401.

What: ``system:masters`` may do anything; everyone else gets what their RoleBindings and
ClusterRoleBindings grant.  Roles may be stored Role/ClusterRole objects or the built-in cluster
roles ``cluster-admin``, ``admin``, ``edit`` and ``view``.  Denied requests are 403 with upstream's
message.  Discovery, OpenAPI and health endpoints are open to every authenticated user.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from dockyard.base import log
from dockyard.cluster.api.errors import Forbidden, Unauthorized
from dockyard.cluster.apiserver.request import Target

Rule = dict[str, Any]
ADMIN_GROUP = "system:masters"
_ALL = ["*"]
_READ = ["get", "list", "watch"]
BUILTIN_ROLES: dict[str, list[Rule]] = {
    "cluster-admin": [{"apiGroups": _ALL, "resources": _ALL, "verbs": _ALL}],
    "admin": [{"apiGroups": _ALL, "resources": _ALL, "verbs": _ALL}],
    "edit": [{"apiGroups": _ALL, "resources": ["*"], "verbs": _ALL,
              "except": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]}],
    "view": [{"apiGroups": _ALL, "resources": ["*"], "verbs": _READ, "except": ["secrets"]}],
}


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


LOCAL_ADMIN = User("system:admin", (ADMIN_GROUP, "system:authenticated"))


class Authenticator:
    def __init__(self, tokens_file: Path | None = None, *, client_certs: bool = False) -> None:
        self.tokens: dict[str, User] = {}
        self.enabled = bool(tokens_file) or client_certs
        if tokens_file:
            for row in csv.reader(io.StringIO(tokens_file.read_text())):
                if len(row) >= 2 and not row[0].startswith("#"):
                    groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
                    self.tokens[row[0].strip()] = User(row[1].strip(), (*groups, "system:authenticated"),
                                                       row[2].strip() if len(row) > 2 else "")
                    log.register_secret(row[0].strip())

    def authenticate(self, request: web.Request) -> User:
        if not self.enabled or _is_unix(request):
            return LOCAL_ADMIN
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[len("Bearer "):].strip()
            for known, user in self.tokens.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    return user
            raise Unauthorized("Unauthorized")
        cert = _peer_cert(request)
        if cert:
            subject = dict(x[0] for x in cert.get("subject", ()))
            orgs = tuple(v for rdn in cert.get("subject", ()) for k, v in rdn if k == "organizationName")
            if subject.get("commonName"):
                return User(subject["commonName"], (*orgs, "system:authenticated"))
        raise Unauthorized("Unauthorized")


def _is_unix(request: web.Request) -> bool:
    transport = request.transport
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    return sock is not None and getattr(sock, "family", None) == 1  # AF_UNIX


def _peer_cert(request: web.Request) -> dict[str, Any] | None:
    transport = request.transport
    ssl_obj = transport.get_extra_info("ssl_object") if transport else None
    return ssl_obj.getpeercert() if ssl_obj is not None else None


def verb_of(request: web.Request, target: Target) -> str:
    method = request.method
    if method == "GET":
        if request.query.get("watch") in ("true", "1"):
            return "watch"
        return "get" if target.name else "list"
    if method == "DELETE":
        return "delete" if target.name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def _allows(rule: Rule, verb: str, group: str, resource: str, name: str | None) -> bool:
    def has(values: list[str] | None, value: str) -> bool:
        return bool(values) and ("*" in values or value in values)

    if resource.split("/")[0] in rule.get("except", ()):
        return False
    if rule.get("resourceNames") and name not in rule["resourceNames"]:
        return False
    return has(rule.get("verbs"), verb) and has(rule.get("apiGroups"), group) and has(rule.get("resources"), resource)


class Authorizer:
    def __init__(self, resources: Any) -> None:
        self.resources = resources

    async def authorize(self, user: User, request: web.Request, target: Target | None) -> None:
        if user.is_admin or target is None or target.kind is None or target.kind.review:
            return  # reviews ask about the caller; every authenticated user may ask (system:basic-user)
        verb = verb_of(request, target)
        kind = target.kind
        resource = kind.plural + (f"/{target.subresource}" if target.subresource else "")
        namespace = target.namespace if kind.namespaced else None
        if kind.plural == "namespaces" and target.name and verb in _READ:
            namespace = target.name
        if await self.allowed(user, verb, kind.group, resource, namespace, target.name):
            return
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        raise Forbidden(f'{kind.plural}{"." + kind.group if kind.group else ""}{" " + json.dumps(target.name) if target.name else ""} '
                        f'is forbidden: User "{user.name}" cannot {verb} resource "{resource}" in API group '
                        f'"{kind.group}"{where}', details={"name": target.name or "", "kind": kind.plural,
                                                           "group": kind.group})

    async def allowed(self, user: User, verb: str, group: str, resource: str, namespace: str | None,
                      name: str | None) -> bool:
        if user.is_admin:
            return True
        for rules in await self._rules_for(user, namespace):
            if any(_allows(r, verb, group, resource, name) for r in rules):
                return True
        return False

    async def review(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        """A SelfSubjectAccessReview answered for *user* (``kubectl auth can-i``)."""
        attrs = (body.get("spec") or {}).get("resourceAttributes")
        if attrs is None:  # non-resource URLs (discovery, health) are open to every authenticated user
            allowed = True
        else:
            resource = attrs.get("resource", "") + (f"/{attrs['subresource']}" if attrs.get("subresource") else "")
            allowed = await self.allowed(user, attrs.get("verb", ""), attrs.get("group", ""), resource,
                                         attrs.get("namespace") or None, attrs.get("name") or None)
        return {**body, "status": {"allowed": allowed}}

    async def _rules_for(self, user: User, namespace: str | None) -> list[list[Rule]]:
        out: list[list[Rule]] = []
        for plural, ns in (("clusterrolebindings", None), ("rolebindings", namespace)):
            if plural == "rolebindings" and not namespace:
                continue
            for b in await self._list(plural, ns):
                if any(_subject_matches(s, user, b["metadata"].get("namespace")) for s in b.get("subjects") or []):
                    out.append(await self._role_rules(b.get("roleRef") or {}, b["metadata"].get("namespace")))
        return out

    async def _list(self, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        kind = self.resources.registry.lookup("rbac.authorization.k8s.io", "v1", plural)
        items, _, _ = await self.resources.store.list(kind.storage_prefix(namespace))
        return [self.resources.codec.decode(kv) for kv in items]

    async def _role_rules(self, ref: dict[str, Any], namespace: str | None) -> list[Rule]:
        name = ref.get("name", "")
        if ref.get("kind") == "ClusterRole" and name in BUILTIN_ROLES:
            return BUILTIN_ROLES[name]
        plural = "roles" if ref.get("kind") == "Role" else "clusterroles"
        kind = self.resources.registry.lookup("rbac.authorization.k8s.io", "v1", plural)
        kv = await self.resources.store.get(kind.key(namespace if plural == "roles" else None, name))
        return self.resources.codec.decode(kv).get("rules") or [] if kv else []


def _subject_matches(subject: dict[str, Any], user: User, binding_ns: str | None) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        return user.name == f"system:serviceaccount:{subject.get('namespace') or binding_ns}:{name}"
    return False
