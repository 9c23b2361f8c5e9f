"""The SDK's public surface: what `import harrow` offers, and that it matches the contract it was generated from."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import harrow
from harrow import _services, _version
from harrow.v1 import virtual_machine_pb2

SDK = Path(harrow.__file__).parents[1]


def test_public_names_are_exactly_these() -> None:
    assert sorted(harrow.__all__) == [
        "Aborted",
        "AlreadyExists",
        "AsyncPager",
        "Cancelled",
        "Client",
        "DataLoss",
        "DeadlineExceeded",
        "EtagMismatch",
        "FailedPrecondition",
        "FieldViolation",
        "HarrowError",
        "Internal",
        "InvalidArgument",
        "NotFound",
        "Operation",
        "OutOfRange",
        "PermissionDenied",
        "ResourceExhausted",
        "RetryConfig",
        "SyncClient",
        "SyncOperation",
        "TlsConfig",
        "Unauthenticated",
        "Unavailable",
        "Unimplemented",
        "Unknown",
        "WatchStream",
        "__version__",
    ]
    for name in harrow.__all__:
        assert getattr(harrow, name) is not None


def test_every_error_is_a_harrow_error_and_etag_mismatch_is_aborted() -> None:
    errors = [getattr(harrow, name) for name in harrow.__all__ if name.endswith(("Error", "Exceeded"))]
    assert all(issubclass(error, harrow.HarrowError) for error in errors)
    assert issubclass(harrow.EtagMismatch, harrow.Aborted)
    assert issubclass(harrow.DeadlineExceeded, TimeoutError)


def test_every_rpc_has_a_method_on_both_clients_with_the_same_keywords() -> None:
    modules = [importlib.import_module(f"harrow.v1.{path.stem}") for path in (SDK / "harrow" / "v1").glob("*_pb2.py")]
    services = [service for module in modules for service in module.DESCRIPTOR.services_by_name.values()]
    assert {"VirtualMachineService", "ClusterService", "OperationService"} <= {s.name for s in services}
    for service in services:
        for method in service.methods:
            name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", method.name).lower()
            async_method = getattr(harrow.Client, name)
            sync_method = getattr(harrow.SyncClient, name)
            async_keywords = set(inspect.signature(async_method).parameters) - {"self"}
            assert async_keywords == set(inspect.signature(sync_method).parameters) - {"self"}
            assert {field.name for field in method.input_type.fields} <= async_keywords


def test_generated_methods_are_up_to_date_with_the_contract() -> None:
    generator = SDK / "tools" / "generate_sdk.py"
    result = subprocess.run([sys.executable, str(generator), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_version_follows_the_contract() -> None:
    major = int(harrow.__version__.split(".")[0])
    assert virtual_machine_pb2.DESCRIPTOR.package == f"harrow.v{major}"
    assert re.fullmatch(r"[0-9a-f]{64}", _version.CONTRACT_SHA256)
    assert _services.__doc__ is not None and "do not edit" in _services.__doc__


def test_typed_package_ships_its_marker_and_stubs() -> None:
    package = Path(harrow.__file__).parent
    assert (package / "py.typed").exists()
    assert list((package / "v1").glob("*_pb2.pyi"))
