"""Kubernetes clients with manners: a client-side token bucket, counted calls, no secrets on disk or in logs.

Every request to a cluster, watches included, passes one token bucket per
cluster (QPS/burst, as client-go's flowcontrol does), so a burst of intent
(200 VMs at once) never arrives as a thundering herd at someone's API server.
The client is built from the stored kubeconfig held in memory; only the TLS
material the ssl module insists on reading from files is written, into a
private temporary directory the process removes.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from typing import Any

import yaml
from kubernetes_asyncio import client, config


class TokenBucket:
    """`qps` tokens a second, up to `burst` saved; a caller beyond that waits its turn."""

    def __init__(self, qps: float, burst: int):
        self._qps = qps
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    async def acquire(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._qps)
        self._stamp = now
        self._tokens -= 1.0
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._qps)


class LimitedApiClient(client.ApiClient):
    """An ApiClient whose every request takes a token first and is counted."""

    def __init__(self, configuration: client.Configuration, bucket: TokenBucket):
        super().__init__(configuration)
        self.bucket = bucket
        self.calls = 0

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        await self.bucket.acquire()
        self.calls += 1
        return await super().request(*args, **kwargs)


_PRIVATE_DIR: str | None = None


def _private_dir() -> str:
    """Where the kubeconfig loader may put TLS files: a 0700 directory of this process."""
    global _PRIVATE_DIR
    if _PRIVATE_DIR is None or not os.path.isdir(_PRIVATE_DIR):
        _PRIVATE_DIR = tempfile.mkdtemp(prefix="harrow-tls-")
    return _PRIVATE_DIR


def parse_kubeconfig(raw: bytes | str) -> dict[str, Any]:
    """The kubeconfig as a dict; ValueError (never echoing the content) when it is not one."""
    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise ValueError(f"kubeconfig is not valid YAML (line {_line(error)})") from None
    if not isinstance(loaded, dict) or not loaded.get("clusters") or not loaded.get("contexts"):
        raise ValueError("kubeconfig must be a YAML mapping with clusters, users and contexts")
    return loaded


def _line(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    return str(mark.line + 1) if mark is not None else "?"


async def connect(kubeconfig: bytes | None, *, qps: float, burst: int) -> LimitedApiClient:
    """A client for the stored kubeconfig, or for the in-cluster service account when there is none."""
    configuration = client.Configuration()
    if kubeconfig:
        await config.load_kube_config_from_dict(
            parse_kubeconfig(kubeconfig), client_configuration=configuration, temp_file_path=_private_dir()
        )
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    else:
        raise LookupError("no kubeconfig registered and not running inside a cluster")
    return LimitedApiClient(configuration, TokenBucket(qps, burst))
