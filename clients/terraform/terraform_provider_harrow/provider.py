"""The provider: where Harrow is and who is calling; the resource and data source types it serves."""

from __future__ import annotations

import os
from typing import Any

from tf.iface import DataSource, Provider, Resource
from tf.schema import Schema
from tf.types import String
from tf.utils import Diagnostics

from terraform_provider_harrow.api import Api, Connection
from terraform_provider_harrow.data_sources import DATA_SOURCES
from terraform_provider_harrow.resources import RESOURCES
from terraform_provider_harrow.schema import optional

DEFAULT_ENDPOINT = "http://localhost:8080"


class HarrowProvider(Provider):
    def __init__(self) -> None:
        self._api: Api | None = None

    def get_model_prefix(self) -> str:
        return "harrow_"

    def full_name(self) -> str:
        return "harrow.io/harrow/harrow"

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(
            attributes=[
                optional(
                    "endpoint",
                    String(),
                    f"Harrow's REST URL; default $HARROW_ENDPOINT, else {DEFAULT_ENDPOINT} (what `make up` serves).",
                ),
                optional("token", String(), "A Harrow bearer token; default $HARROW_TOKEN.", sensitive=True),
                optional("ca_file", String(), "PEM file of the CA that signed Harrow's certificate (https)."),
            ]
        )

    def validate_config(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        endpoint = config.get("endpoint")
        if isinstance(endpoint, str) and not endpoint.startswith(("http://", "https://")):
            diags.add_error("Invalid endpoint", _SCHEME_HINT.format(endpoint=endpoint), path=["endpoint"])

    def configure_provider(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        endpoint = config.get("endpoint") or os.environ.get("HARROW_ENDPOINT") or DEFAULT_ENDPOINT
        if not endpoint.startswith(("http://", "https://")):
            diags.add_error("Invalid endpoint", _SCHEME_HINT.format(endpoint=endpoint), path=["endpoint"])
            return
        token = config.get("token") or os.environ.get("HARROW_TOKEN") or None
        self._api = Api(Connection(endpoint, token, config.get("ca_file")))

    def api(self) -> Api:
        if self._api is None:
            raise RuntimeError("the provider is used before Terraform configured it")
        return self._api

    def get_data_sources(self) -> list[type[DataSource]]:
        return list(DATA_SOURCES)

    def get_resources(self) -> list[type[Resource]]:
        return list(RESOURCES)


_SCHEME_HINT = (
    "{endpoint!r} is not an http(s) URL. The provider speaks Harrow's REST API (e.g. http://localhost:8080); "
    "the gRPC address the Python SDK takes from HARROW_ENDPOINT (host:port) does not work here."
)
