"""Handles for the long-running operations mutations return.

A mutation is answered as soon as the intent is recorded; the Operation is
done when the cluster shows it. `result` waits with
OperationService.WaitOperation (the server holds each call up to 60 s), so
waiting costs one call a minute rather than a poll loop, and a failed
operation raises the same exception class a failed call would.
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from google.longrunning import operations_pb2
from google.protobuf import duration_pb2, empty_pb2
from google.protobuf.message import Message

from harrow._errors import DeadlineExceeded, error_from_status
from harrow._portal import Portal
from harrow._transport import Transport
from harrow.v1 import common_pb2

ResultT = TypeVar("ResultT", bound=Message)

_WAIT = "/harrow.v1.OperationService/WaitOperation"
_GET = "/harrow.v1.OperationService/GetOperation"
_CANCEL = "/harrow.v1.OperationService/CancelOperation"
_SERVER_WAIT_LIMIT = 60.0


class Operation(Generic[ResultT]):
    """A mutation's progress: ``await op.result()`` is the resource once the cluster shows it."""

    def __init__(self, transport: Transport, proto: Any, result_type: type[ResultT]) -> None:
        self._transport = transport
        self._result_type = result_type
        self.proto: Any = proto
        """The latest google.longrunning.Operation seen."""

    @property
    def name(self) -> str:
        """``operations/{id}``; empty for answers with nothing to wait for (``validate_only``, no-op deletes)."""
        name: str = self.proto.name
        return name

    @property
    def done(self) -> bool:
        done: bool = self.proto.done
        return done

    @property
    def metadata(self) -> common_pb2.OperationMetadata:
        """Target, verb, target generation and progress message."""
        metadata = common_pb2.OperationMetadata()
        if self.proto.HasField("metadata"):
            self.proto.metadata.Unpack(metadata)
        return metadata

    async def result(self, timeout: float | None = None) -> ResultT:  # noqa: ASYNC109 - a wait bound, as in concurrent.futures
        """Wait until the operation is done and return its response.

        Raises:
            HarrowError: the subclass for the operation's error (``Cancelled`` after a cancel).
            DeadlineExceeded: ``timeout`` seconds passed first (also a ``TimeoutError``).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self.done:
            remaining = _SERVER_WAIT_LIMIT if deadline is None else deadline - loop.time()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"{self.name} is not done after {timeout} s: {self.metadata.status_message}",
                    reason="OPERATION_WAIT_TIMEOUT",
                    metadata={"operation": self.name},
                )
            wait = duration_pb2.Duration()
            wait.FromMilliseconds(int(min(remaining, _SERVER_WAIT_LIMIT) * 1000))
            request = operations_pb2.WaitOperationRequest(name=self.name, timeout=wait)
            self.proto = await self._transport.unary(
                _WAIT,
                request,
                operations_pb2.Operation,
                retry=True,
                call_timeout=min(remaining, _SERVER_WAIT_LIMIT) + 10,
            )
        return self._outcome()

    async def refresh(self) -> Operation[ResultT]:
        """Fetch the operation's latest state once, without waiting."""
        if self.name:
            request = operations_pb2.GetOperationRequest(name=self.name)
            self.proto = await self._transport.unary(_GET, request, operations_pb2.Operation, retry=True)
        return self

    async def cancel(self) -> None:
        """Ask for the operation to stop; it then ends with ``Cancelled``. The recorded intent stays."""
        request = operations_pb2.CancelOperationRequest(name=self.name)
        await self._transport.unary(_CANCEL, request, empty_pb2.Empty, retry=True)

    def _outcome(self) -> ResultT:
        if self.proto.HasField("error"):
            raise error_from_status(self.proto.error)
        result = self._result_type()
        if self.proto.HasField("response"):
            self.proto.response.Unpack(result)
        return result

    def __repr__(self) -> str:
        return f"<Operation {self.name or '(unnamed)'} done={self.done}>"


class SyncOperation(Generic[ResultT]):
    """The blocking form of `Operation`: ``op.result(timeout=…)``."""

    def __init__(self, portal: Portal, operation: Operation[ResultT]) -> None:
        self._portal = portal
        self._operation = operation

    @property
    def proto(self) -> Any:
        """The latest google.longrunning.Operation seen."""
        return self._operation.proto

    @property
    def name(self) -> str:
        return self._operation.name

    @property
    def done(self) -> bool:
        return self._operation.done

    @property
    def metadata(self) -> common_pb2.OperationMetadata:
        return self._operation.metadata

    def result(self, timeout: float | None = None) -> ResultT:
        """Block until the operation is done and return its response; raises as `Operation.result` does."""
        return self._portal.run(self._operation.result(timeout))

    def refresh(self) -> SyncOperation[ResultT]:
        self._portal.run(self._operation.refresh())
        return self

    def cancel(self) -> None:
        self._portal.run(self._operation.cancel())

    def __repr__(self) -> str:
        return f"<SyncOperation {self.name or '(unnamed)'} done={self.done}>"
