"""``KubeSim``: the API server, its store and the simulated controllers in one object.

It runs inside the caller's event loop (tests and ``harrow-server up`` already
have one) on a real TCP socket, so clients exercise their real HTTP stack;
``port=0`` lets parallel test sessions coexist.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path

import yaml
from aiohttp import web

from . import served
from .admin import Admin
from .api import Api
from .clock import Clock
from .config import KubeSimConfig
from .controllers import Controllers
from .faults import Faults
from .rbac import Rbac
from .schema import bundled
from .store import Store
from .tables import Printer
from .tls import Certificates, generate
from .versions import schema_version


def _bound_port(site: web.TCPSite) -> int:
    """The port the OS chose for ``port=0``; aiohttp exposes the server only as ``AbstractServer``."""
    server = site._server
    if not isinstance(server, asyncio.Server) or not server.sockets:
        raise RuntimeError("kubesim: the HTTP site did not bind a socket")
    return int(server.sockets[0].getsockname()[1])


class KubeSim:
    def __init__(self, config: KubeSimConfig | None = None) -> None:
        self.config = config or KubeSimConfig()
        self.token = self.config.token or secrets.token_urlsafe(24)
        self.clock = Clock(self.config.clock_scale)
        schemas = self.config.schema_dir
        self.store = Store(
            self.clock,
            self.config.event_history,
            schemas,
            {
                "kubevirt": schema_version(self.config.kubevirt_version, bundled(schemas, "kubevirt")),
                "cdi": schema_version(self.config.cdi_version, bundled(schemas, "cdi")),
                "harvester": "",
            },
        )
        self.faults = Faults()
        self.rbac = Rbac(self.store, self.token)
        self.api = Api(
            self.store,
            self.rbac,
            self.faults,
            self.config.kubernetes_version,
            self.config.bookmark_interval / self.config.clock_scale,
            Printer(schemas, self.store.versions),
        )
        self.controllers = Controllers(self.store, self.clock, self.config, self.api)
        self.admin = Admin(self)
        self._runner: web.AppRunner | None = None
        self._url = ""
        self.certificates: Certificates | None = None

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("KubeSim is not started")
        return self._url

    @property
    def ca_pem(self) -> bytes:
        """The CA that signed the serving certificate, for clients that verify TLS."""
        if self.certificates is None:
            raise RuntimeError("KubeSim is not started")
        return self.certificates.ca_pem

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.controllers.seed()
        self._runner = web.AppRunner(self.api.app(self._extend), handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        self.certificates = generate(host)
        site = web.TCPSite(self._runner, host, port, ssl_context=self.certificates.server_context())
        await site.start()
        self._url = f"https://{host}:{_bound_port(site)}"
        self.controllers.start()

    def _extend(self, app: web.Application) -> None:
        """The admin API, and the optional API groups this cluster does not serve hidden (served.py)."""
        self.admin.routes(app)
        served.install(app, self.config)

    async def stop(self) -> None:
        await self.controllers.stop()
        self.api.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def token_for(self, namespace: str, service_account: str) -> str:
        """A token for an existing ServiceAccount: its requests are held to the roles bound to it (``rbac.py``)."""
        return self.rbac.mint(namespace, service_account)

    def kubeconfig(self, context: str = "kubesim", token: str | None = None) -> dict[str, object]:
        """A kubeconfig for this cluster: the admin token, or `token` (e.g. one from `token_for`)."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": context,
            "preferences": {},
            "clusters": [
                {
                    "name": context,
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": context, "user": {"token": token or self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
        }

    def write_kubeconfig(self, path: str | Path, context: str = "kubesim") -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig(context), sort_keys=False))
        target.chmod(0o600)
        return target
