"""Start (issue 12, benchmark 7): `harrow-server up`, from the command to the first successful RPC.

Twice: cold (an empty data directory: initdb, migrations, the embedded cluster, the API) and warm (the
same directory again, as a developer's second `make up`). The first RPC is ListVirtualMachines over gRPC,
polled every 20 ms, with authentication off so no token has to be fished out of the first start's output.

Baseline, the parts no Harrow change can remove: the embedded PostgreSQL started alone (cold: initdb
then start; warm: start on its data directory) plus `python -c 'import server.cli'` as its own process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import grpc
from harrow.v1 import virtual_machine_pb2 as vm_pb
from harrow.v1 import virtual_machine_pb2_grpc

from bench.harness import Row, save

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from storage.embedded import EmbeddedPostgres, free_port

HARROW_SERVER = Path(sys.executable).with_name("harrow-server")


def _first_rpc(grpc_port: int, deadline: float) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    request = vm_pb.ListVirtualMachinesRequest(parent="clusters/local/namespaces/default")
    try:
        while True:
            try:
                stub.ListVirtualMachines(request, timeout=1.0)
                return
            except grpc.RpcError:
                if time.perf_counter() > deadline:
                    raise
                time.sleep(0.02)
    finally:
        channel.close()


def time_up(data_dir: Path) -> float:
    """Seconds from starting `harrow-server up` to its first answered RPC; the server is stopped after."""
    grpc_port, rest_port = free_port(), free_port()
    env = {**os.environ, "HARROW_AUTH": "off"}
    command = [str(HARROW_SERVER), "up", "--data-dir", str(data_dir), "--grpc-port", str(grpc_port)]
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--rest-port", str(rest_port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _first_rpc(grpc_port, start + 120)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(60)


def time_postgres(data_dir: Path) -> float:
    """Seconds the embedded PostgreSQL takes to start (initdb included when the directory is new)."""
    server = EmbeddedPostgres(data_dir)
    start = time.perf_counter()
    server.start()
    elapsed = time.perf_counter() - start
    server.stop()
    return elapsed


def time_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import server.cli"], check=True)
    return time.perf_counter() - start


def run(*, cold_only: bool = False) -> list[Row]:
    """Cold and warm starts; `cold_only` (the smoke run) skips the warm pair."""
    root = Path(tempfile.mkdtemp(prefix="harrow-bench-start-"))
    try:
        figures = {"up_cold_s": time_up(root / "up"), "postgres_cold_s": time_postgres(root / "pg")}
        if not cold_only:
            figures |= {"up_warm_s": time_up(root / "up"), "postgres_warm_s": time_postgres(root / "pg")}
        figures["import_server_s"] = time_import()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    imports = figures["import_server_s"]
    rows = [
        Row(
            "harrow-server up, cold, to first RPC vs PostgreSQL initdb+start + import",
            figures["up_cold_s"],
            figures["postgres_cold_s"] + imports,
            "s",
            "",
            None,
        )
    ]
    if not cold_only:
        rows.append(
            Row(
                "harrow-server up, warm, to first RPC vs PostgreSQL start + import",
                figures["up_warm_s"],
                figures["postgres_warm_s"] + imports,
                "s",
                "",
                None,
            )
        )
    print("  start: " + ", ".join(f"{key} {value:.2f}" for key, value in figures.items()))
    save("start", figures)
    return rows


if __name__ == "__main__":
    run()
