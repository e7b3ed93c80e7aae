"""The ``/_kv/identity/`` and ``/_kv/events/`` routes: collections that are added to, listed and removed.

Bodies arrive checked against the OpenAPI document (:mod:`.management_spec`); what is left to say here is
what only the emulator knows (a name that is not registered, a vault that does not exist).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from cryptography import x509
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Request, Response

__all__ = ["IdentityRoutes"]

_SERVICE_PRINCIPAL, _MANAGED_IDENTITY = "service_principal", "managed_identity"
_KIND_WORDS = {_SERVICE_PRINCIPAL: "service principal", _MANAGED_IDENTITY: "managed identity"}


def _principal_json(principal: Any) -> dict[str, Any]:
    """What a test needs to know of a principal (never its secret)."""
    return {
        "client_id": principal.client_id,
        "object_id": principal.object_id,
        "tenant_id": principal.tenant_id,
        "kind": principal.kind,
        "display_name": principal.display_name,
        "federated": principal.federated,
        "secret": principal.secret is not None,
        "certificate": principal.certificate is not None,
    }


def _policy_json(policy: Any, vault: Any) -> dict[str, Any]:
    data = {k: sorted(v) if isinstance(v, set) else v for k, v in dataclasses.asdict(policy).items()}
    return {**data, "vault": vault.name}


class IdentityRoutes:
    """Principals, managed identities, role assignments, access policies and event subscriptions."""

    @property
    def emulator(self) -> Any:  # the ControlApi's
        raise NotImplementedError

    # -- principals and managed identities ---------------------------------------------------------

    def _principals(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_principal_json(p) for p in self.emulator.identity.principals(_SERVICE_PRINCIPAL)]

    def _principal_add(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        certificate = None
        if "certificate" in body:
            try:
                certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
            except ValueError:
                raise BadRequest("'certificate' is not a PEM certificate (-----BEGIN CERTIFICATE-----)") from None
        principal = self.emulator.identity.add_service_principal(
            body.get("client_id"),
            secret=body.get("secret"),
            certificate=certificate,
            federated=body.get("federated", False),
            tenant_id=body.get("tenant_id"),
            object_id=body.get("object_id"),
            display_name=body.get("display_name", ""),
        )
        return _principal_json(principal)

    def _principal_remove(self, request: Request, body: dict[str, Any], client_id: str) -> dict[str, Any]:
        return self._remove(client_id, _SERVICE_PRINCIPAL)

    def _managed_identities(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_principal_json(p) for p in self.emulator.identity.principals(_MANAGED_IDENTITY)]

    def _managed_identity_add(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        principal = self.emulator.identity.add_managed_identity(
            body.get("client_id"), object_id=body.get("object_id"), tenant_id=body.get("tenant_id")
        )
        return _principal_json(principal)

    def _managed_identity_remove(self, request: Request, body: dict[str, Any], client_id: str) -> dict[str, Any]:
        return self._remove(client_id, _MANAGED_IDENTITY)

    def _remove(self, client_id: str, kind: str) -> dict[str, Any]:
        directory = self.emulator.identity
        if not any(p.client_id.lower() == client_id.lower() for p in directory.principals(kind)):
            raise NotFound(f"no {_KIND_WORDS[kind]} with client id {client_id!r} is registered")
        directory.remove(client_id)
        return {"status": "deleted", "client_id": client_id}

    def _object_id(self, principal: str) -> str:
        """A registered principal's object id for its client id; anything else is taken as an object id."""
        for registered in self.emulator.identity.principals():
            if registered.client_id.lower() == principal.lower():
                return str(registered.object_id)
        return principal

    # -- role assignments and access policies ------------------------------------------------------

    def _vaults(self, name_or_url: str | None) -> list[Any]:
        """Every vault, or the one named (a 404 when there is none: reading creates nothing)."""
        vaults = list(self.emulator.vaults)
        if name_or_url is None:
            return vaults
        wanted = name_or_url.lower().rstrip("/")
        found = [v for v in vaults if wanted in (v.name.lower(), v.url.lower().rstrip("/"))]
        if not found:
            raise NotFound(f"no vault {name_or_url!r}")
        return found

    def _roles(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {**dataclasses.asdict(assignment), "vault": vault.name}
            for vault in self._vaults(request.args.get("vault"))
            for assignment in vault.authorization.assignments
        ]

    def _role_assign(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        vault = self.emulator.vault(body.get("vault"))
        principal = self._object_id(body["principal"])
        assignment = vault.authorization.assign(body["role"], principal, body.get("scope", "/"))
        return {**dataclasses.asdict(assignment), "vault": vault.name}

    def _role_revoke(self, request: Request, body: dict[str, Any], assignment_id: str) -> dict[str, Any]:
        for vault in self._vaults(None):
            if any(a.id == assignment_id for a in vault.authorization.assignments):
                vault.authorization.revoke(assignment_id)
                return {"status": "deleted", "id": assignment_id, "vault": vault.name}
        raise NotFound(f"no role assignment with id {assignment_id!r}")

    def _access_policies(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            _policy_json(policy, vault)
            for vault in self._vaults(request.args.get("vault"))
            for policy in vault.authorization.access_policies
        ]

    def _access_policy_set(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        vault = self.emulator.vault(body.get("vault"))
        policy = vault.authorization.set_access_policy(
            self._object_id(body["principal"]),
            secrets=body.get("secrets", ()),
            keys=body.get("keys", ()),
            certificates=body.get("certificates", ()),
        )
        return _policy_json(policy, vault)

    def _access_policy_remove(self, request: Request, body: dict[str, Any], principal: str) -> dict[str, Any]:
        name = request.args.get("vault")
        vault = self._vaults(name)[0] if name else self.emulator.vault()
        object_id = self._object_id(principal).lower()
        if not any(p.object_id == object_id for p in vault.authorization.access_policies):
            raise NotFound(f"vault {vault.name!r} has no access policy for {principal!r}")
        vault.authorization.remove_access_policy(object_id)
        return {"status": "deleted", "principal": principal, "vault": vault.name}

    # -- events ------------------------------------------------------------------------------------

    def _events(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """Every published event (Event Grid schema) and the subscriptions, with counts."""
        events = self.emulator.events
        return {"published": events.published, "subscriptions": [s.to_dict() for s in events.subscriptions]}

    def _events_clear(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.events.clear()
        return {"status": "cleared"}

    def _events_subscriptions(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.emulator.events.subscriptions]

    def _events_subscribe(self, request: Request, body: dict[str, Any]) -> Response:
        """A webhook subscription (``endpoint`` required over HTTP: a handler cannot travel); the validation
        handshake runs before the answer, so a 201 means the endpoint accepted it."""
        subscription = self.emulator.events.subscribe_json(body)
        return Response(json.dumps(subscription.to_dict()), status=201, mimetype="application/json")

    def _events_subscription(self, request: Request, body: dict[str, Any], name: str) -> dict[str, Any]:
        """One subscription with what it received, its dead letters and its delivery errors."""
        return dict(self._subscription(name).to_dict(events=True))

    def _events_unsubscribe(self, request: Request, body: dict[str, Any], name: str) -> dict[str, Any]:
        self.emulator.events.unsubscribe(self._subscription(name))
        return {"status": "deleted", "name": name}

    def _subscription(self, name: str) -> Any:
        try:
            return self.emulator.events.subscription(name)
        except KeyError:
            raise NotFound(f"no event subscription named {name!r}") from None
