"""What every Harrow resource does the same way, so each kind only says how its JSON maps to state.

The behaviours Terraform users of other VM providers miss, in one place:
- create/update/delete wait for the Operation (Harrow marks it done when the cluster shows the
  result), bounded by the `timeouts` block; a create that times out leaves the resource in state
  (tainted), never orphaned in Harrow;
- every mutation sends a fresh request_id (so HTTP retries act once) and the etag read last (so a
  change made meanwhile is refused, not overwritten);
- a read that finds nothing (404, or deletion under way) removes the resource from state, and the
  create that follows waits out a deletion still under way;
- import by Harrow resource name reads every attribute, so the next plan is empty;
- a plan that changes anything marks the values Harrow recomputes (etag, state…) unknown, and
  nothing else: what the user wrote is planned and stored exactly as written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tf.iface import (
    CreateContext,
    DeleteContext,
    ImportContext,
    PlanContext,
    ReadContext,
    Resource,
    State,
    UpdateContext,
)
from tf.schema import Attribute, Block
from tf.types import Bool, String, Unknown
from tf.utils import Diagnostics

from terraform_provider_harrow.api import Api, ApiError, OperationTimeout, new_request_id
from terraform_provider_harrow.mapping import from_json, keep_zero, to_json
from terraform_provider_harrow.schema import SingleBlock, optional
from terraform_provider_harrow.values import seconds

if TYPE_CHECKING:
    from terraform_provider_harrow.provider import HarrowProvider

_GONE, _DELETING = "gone", "deleting"
_DELETION_POLL_SECONDS = 0.5

# Attributes that only steer the provider; Harrow never sees them.
PROVIDER_ONLY = ("timeouts", "wait_for_cluster", "force_destroy")


@dataclass(frozen=True)
class Timeouts:
    """Defaults for the `timeouts` block, in Terraform duration syntax."""

    create: str = "5m"
    update: str = "5m"
    delete: str = "5m"

    def block(self) -> SingleBlock:
        return SingleBlock(
            "timeouts",
            Block(
                attributes=[
                    optional(verb, String(), f'How long {verb} may wait for the cluster (default "{default}").')
                    for verb, default in (("create", self.create), ("update", self.update), ("delete", self.delete))
                ]
            ),
        )


WAIT_FOR_CLUSTER = optional(
    "wait_for_cluster",
    Bool(),
    "Wait until the cluster shows each change (the Operation is done); default true. "
    "false returns as soon as Harrow has recorded the intent.",
)


class HarrowResource(Resource):
    """A Harrow resource with standard methods (AIP-131..135) whose mutations return Operations."""

    timeouts: ClassVar[Timeouts] = Timeouts()
    # Computed attributes Harrow changes when the intent changes; unknown in such a plan.
    volatile: ClassVar[tuple[str, ...]] = ("etag", "state")
    # The attributes that make up the resource's `spec`.
    spec: ClassVar[Block]
    # Spec attributes that are proto `optional`: a zero value there is set, not unset.
    presence: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, provider: HarrowProvider) -> None:
        self._provider = provider

    @property
    def api(self) -> Api:
        return self._provider.api()

    # --- what each kind says ------------------------------------------------------------------------

    def name_of(self, state: State) -> str:
        """The Harrow resource name of the resource `state` describes."""
        raise NotImplementedError

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        """State from Harrow's resource JSON; `prior` is what was planned or stored (None on import)."""
        raise NotImplementedError

    def body_of(self, state: State) -> dict[str, Any]:
        """The resource JSON for `state`: labels, annotations and the attributes of `spec`."""
        body: dict[str, Any] = {"spec": to_json(self.spec, state, self.presence)}
        for key in ("labels", "annotations"):
            if state.get(key):
                body[key] = state[key]
        return body

    def common_state(self, resource: dict[str, Any], prior: State | None) -> State:
        """The attributes every kind has: metadata, spec, provider-only settings, uid, etag, state."""
        before = prior or {}
        return {
            "id": resource["name"],
            "labels": keep_zero(resource.get("labels"), before.get("labels")),
            "annotations": keep_zero(resource.get("annotations"), before.get("annotations")),
            **from_json(self.spec, resource.get("spec"), before),
            **self.carried(prior),
            "uid": resource.get("uid"),
            "etag": resource.get("etag"),
            "state": resource.get("state", "STATE_UNSPECIFIED"),
        }

    def send_create(self, state: State, request_id: str) -> dict[str, Any]:
        """Sends the create; returns the Operation."""
        raise NotImplementedError

    def send_delete(self, state: State, request_id: str) -> dict[str, Any]:
        """Sends the delete with the stored etag; returns the Operation."""
        return self.api.delete(self.name_of(state), etag=state["etag"] or "", requestId=request_id)

    def parse_name(self, name: str) -> None:
        """Raises ValueError unless `name` is the name of a resource of this kind."""
        raise NotImplementedError

    # --- the shared behaviour -----------------------------------------------------------------------

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        try:
            operation = self._create_once_namesake_gone(planned)
        except ApiError as error:
            hint = ""
            if error.status == "ALREADY_EXISTS" and self._namesake(planned) == _DELETING:
                hint = f"\nIt is still being deleted in Harrow; run apply again once {self.name_of(planned)} is gone."
            elif error.status == "ALREADY_EXISTS":
                hint = f"\nIt exists in Harrow already: `terraform import` it as {self.name_of(planned)}."
            _fail(ctx.diagnostics, f"Harrow refused to create {self.name_of(planned)}", error, hint)
            return None
        return self._settle(ctx.diagnostics, operation, planned, "create")

    def _create_once_namesake_gone(self, planned: State) -> dict[str, Any]:
        """Sends the create. A delete is asynchronous: a refresh drops a resource as soon as its deletion starts
        (read below), so the plan creates it again while Harrow still holds the old one. Such a create is
        refused as ALREADY_EXISTS; it is sent again once the old one is gone, within the create timeout."""
        try:
            return self.send_create(planned, new_request_id())
        except ApiError as error:
            if error.status != "ALREADY_EXISTS":
                raise
            deadline = time.monotonic() + self._timeout(planned, "create")
            while (namesake := self._namesake(planned)) == _DELETING and time.monotonic() < deadline:
                time.sleep(_DELETION_POLL_SECONDS)
            if namesake != _GONE:
                raise
        return self.send_create(planned, new_request_id())

    def _namesake(self, state: State) -> str:
        """Whether Harrow holds a resource of `state`'s name: _GONE, _DELETING or live."""
        try:
            resource = self.api.get(self.name_of(state))
        except ApiError as error:
            return _GONE if error.status == "NOT_FOUND" else "unknown"
        return _DELETING if resource.get("deleteTime") else "live"

    def read(self, ctx: ReadContext, current: State) -> State | None:
        try:
            resource = self.api.get(self.name_of(current))
        except ApiError as error:
            if error.status == "NOT_FOUND":
                return None
            _fail(ctx.diagnostics, f"Cannot read {self.name_of(current)}", error)
            return current
        if resource.get("deleteTime"):
            return None
        return self.state_of(resource, current)

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        if not self.changes_harrow(current, planned):
            return {**planned, **{key: current[key] for key in self.volatile}}
        body = {**self.body_of(planned), "etag": current["etag"]}
        try:
            operation = self.api.patch(self.name_of(planned), body, updateMask="*", requestId=new_request_id())
        except ApiError as error:
            hint = ""
            if error.status == "ABORTED":
                hint = "\nIt changed in Harrow since Terraform read it; run the plan again to see the change."
            _fail(ctx.diagnostics, f"Harrow refused to update {self.name_of(planned)}", error, hint)
            return current
        return self._settle(ctx.diagnostics, operation, planned, "update")

    def delete(self, ctx: DeleteContext, current: State) -> None:
        try:
            operation = self.send_delete(current, new_request_id())
            if current.get("wait_for_cluster") is not False:
                self.api.wait(operation, self._timeout(current, "delete"))
        except ApiError as error:
            if error.status != "NOT_FOUND":
                _fail(ctx.diagnostics, f"Cannot delete {self.name_of(current)}", error)
        except OperationTimeout as timeout:
            ctx.diagnostics.add_error(f"Deleting {self.name_of(current)} timed out", str(timeout))

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        try:
            self.parse_name(id)
            return self.state_of(self.api.get(id), None)
        except ValueError as error:
            ctx.diagnostics.add_error(f"Cannot import {id!r}", f"Import by Harrow resource name: {error}")
        except ApiError as error:
            _fail(ctx.diagnostics, f"Cannot import {id}", error)
        return None

    def plan(self, ctx: PlanContext, current: State | None, planned: State) -> State:
        if current is not None and self.volatile and self.changes_harrow(current, planned):
            for key in self.volatile:
                planned[key] = Unknown
        return planned

    def check_update(self, diagnostics: Diagnostics, current: State, planned: State) -> None:
        """Asks Harrow whether it would take the planned update (validate_only: nothing changes), so a change it
        refuses (a disk's storage class, say) fails `plan` with Harrow's own error, naming the field, rather
        than half-way through an apply. Only refusals of the change itself are reported: anything else (a stale
        etag, an unreachable Harrow) is for the apply to meet."""
        body = {**self.body_of(planned), "etag": current["etag"]}
        try:
            self.api.patch(self.name_of(planned), body, updateMask="*", validateOnly="true")
        except ApiError as error:
            if error.status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION"):
                _fail(diagnostics, f"Harrow would refuse to update {self.name_of(planned)}", error)

    def _settle(self, diagnostics: Diagnostics, operation: dict[str, Any], planned: State, verb: str) -> State | None:
        """Waits for the Operation, then reads the result; on failure keeps what exists so nothing is orphaned."""
        name = self.name_of(planned)
        try:
            if planned.get("wait_for_cluster") is not False:
                self.api.wait(operation, self._timeout(planned, verb))
        except ApiError as error:
            _fail(diagnostics, f"The cluster did not finish the {verb} of {name}", error)
        except OperationTimeout as timeout:
            diagnostics.add_error(
                f"Timed out waiting for the {verb} of {name}",
                f"{timeout}\nHarrow keeps the intent; raise timeouts.{verb} or run apply again.",
            )
        try:
            return self.state_of(self.api.get(name), planned)
        except ApiError as error:
            _fail(diagnostics, f"Cannot read {name} after the {verb}", error)
            return None

    def changes_harrow(self, current: State, planned: State) -> bool:
        """Whether applying the plan sends Harrow anything new. Provider-only settings do not count, nor
        does a zero value written where Harrow stores none (`annotations = {}` after an import)."""
        return has_unknown(planned) or self.body_of(planned) != self.body_of(current)

    @classmethod
    def carried(cls, prior: State | None) -> State:
        """This kind's provider-only settings, carried over from the plan or stored state (unset after import)."""
        schema = cls.get_schema()
        names = {attribute.name for attribute in schema.attributes} | {block.type_name for block in schema.block_types}
        return {key: (prior or {}).get(key) for key in PROVIDER_ONLY if key in names}

    def _timeout(self, state: State, verb: str) -> float:
        written = (state.get("timeouts") or {}).get(verb)
        return seconds(written if isinstance(written, str) else getattr(self.timeouts, verb))

    @classmethod
    def validate_timeouts(cls, diagnostics: Diagnostics, config: dict[str, Any]) -> None:
        timeouts = config.get("timeouts")
        for verb, value in (timeouts if isinstance(timeouts, dict) else {}).items():
            if isinstance(value, str):
                try:
                    seconds(value)
                except ValueError as error:
                    diagnostics.add_error(f"Invalid timeouts.{verb}", str(error), path=["timeouts"])


def has_unknown(value: Any) -> bool:
    if value is Unknown:
        return True
    if isinstance(value, dict):
        return any(has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unknown(item) for item in value)
    return False


def identity_attributes(what: str) -> list[Attribute]:
    """cluster (default "local") and the ID; changing either is a different resource, so both force replacement."""
    return [
        Attribute(
            "cluster",
            String(),
            description='The Harrow cluster ID (default "local").',
            optional=True,
            computed=True,
            default="local",
            requires_replace=True,
        ),
        Attribute(
            "name", String(), description=f"The {what}'s ID, a DNS-1123 label.", required=True, requires_replace=True
        ),
    ]


def _fail(diagnostics: Diagnostics, summary: str, error: ApiError, hint: str = "") -> None:
    diagnostics.add_error(summary, error.describe() + hint)
