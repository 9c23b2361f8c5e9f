"""harrow_ip_allocation: one address held from a pool, allocated in one database transaction.

Harrow's database is the allocator of record (a primary key on the address), so any number of
these applied in parallel get distinct addresses; no `-parallelism=1` workaround. Allocation is
not an Operation (it finishes inside the transaction) and an allocation has no etag: it is never
updated, every attribute forces replacement. Release is by owner, so a destroy can never release
an address that meanwhile went to someone else.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf.iface import CreateContext, DeleteContext, State, UpdateContext
from tf.schema import Attribute, Schema
from tf.types import Number, String

from terraform_provider_harrow.api import ApiError, new_request_id
from terraform_provider_harrow.resource import HarrowResource
from terraform_provider_harrow.schema import computed


class IpAllocation(HarrowResource):
    volatile = ()
    _schema: ClassVar[Schema] = Schema(
        version=1,
        attributes=[
            computed("id", String(), "The Harrow resource name, clusters/{c}/ipPools/{pool}/allocations/{address}."),
            Attribute(
                "pool",
                String(),
                description="The pool's Harrow resource name (harrow_ip_pool.<name>.id).",
                required=True,
                requires_replace=True,
            ),
            Attribute(
                "owner",
                String(),
                description='Who holds the address, any stable key ("default/lb-web"); one address per owner and pool.',
                required=True,
                requires_replace=True,
            ),
            Attribute(
                "address",
                String(),
                description="An address to take; unset: Harrow picks one (the owner's last one if free).",
                optional=True,
                computed=True,
                requires_replace=True,
            ),
            computed("prefix_length", Number(), "The subnet's prefix length, for configuring the address."),
            computed("gateway", String(), "The subnet's gateway."),
        ],
    )

    @classmethod
    def get_name(cls) -> str:
        return "ip_allocation"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls._schema

    def name_of(self, state: State) -> str:
        return str(state["id"])

    def parse_name(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) != 6 or parts[0] != "clusters" or parts[2] != "ipPools" or parts[4] != "allocations":
            raise ValueError(f"{name!r} is not clusters/{{cluster}}/ipPools/{{pool}}/allocations/{{address}}")

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        request: dict[str, Any] = {"owner": planned["owner"], "requestId": new_request_id()}
        if isinstance(planned.get("address"), str):
            request["address"] = planned["address"]
        try:
            return self.state_of(self.api.post(f"{planned['pool']}:allocate", request), planned)
        except ApiError as error:
            ctx.diagnostics.add_error(f"Harrow refused to allocate from {planned['pool']}", error.describe())
            return None

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return planned

    def delete(self, ctx: DeleteContext, current: State) -> None:
        request = {"owner": current["owner"], "requestId": new_request_id()}
        try:
            self.api.post(f"{current['pool']}:release", request)
        except ApiError as error:
            if error.status != "NOT_FOUND":
                ctx.diagnostics.add_error(f"Cannot release {current['id']}", error.describe())

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        return {
            "id": resource["name"],
            "pool": resource["name"].split("/allocations/")[0],
            "owner": resource.get("owner"),
            "address": resource.get("address"),
            "prefix_length": resource.get("prefixLength"),
            "gateway": resource.get("gateway", ""),
        }
