"""What a grpcurl user sees, with the real binary: reflection, the VM life cycle over stdin, rich errors.

The server is the SDK tests' one (kubesim behind `clusters/local`), so
waiting on an operation really ends when the cluster shows the change.
Every command here is the one the README lists, with the address filled in.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.sdk import conftest as sdk
from tests.sdk.conftest import Server

# The SDK tests' fixtures: a Harrow with kubesim behind clusters/local, so operations finish.
cluster = sdk.cluster
server = sdk.server

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"
VM = "harrow.v1.VirtualMachineService"
MIG = "harrow.v1.MigrationService"
NAME = "clusters/local/namespaces/default/virtualMachines/web-1"

CREATE = {
    "parent": "clusters/local/namespaces/default",
    "virtualMachineId": "web-1",
    "virtualMachine": {
        "labels": {"team": "web"},
        "spec": {
            "cpu": {"cores": 2},
            "memory": "4Gi",
            "runStrategy": "HALTED",
            "disks": [
                {
                    "name": "root",
                    "bootOrder": 1,
                    "image": {"url": "https://images.example.com/noble.img", "size": "20Gi"},
                }
            ],
            "interfaces": [{"name": "default", "network": "pod"}],
        },
    },
}


async def grpcurl(server: Server, *words: str, stdin: Any = None, flags: tuple[str, ...] = (), expect: int = 0) -> str:
    """`grpcurl -plaintext [flags] [-d @] ADDRESS words…`, the request JSON on stdin; stdout and stderr."""
    data = ("-d", "@") if stdin is not None else ()
    process = await asyncio.create_subprocess_exec(
        GRPCURL,
        "-plaintext",
        *flags,
        *data,
        server.grpc,
        *words,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    payload = json.dumps(stdin).encode() if stdin is not None else b""
    out, err = await asyncio.wait_for(process.communicate(payload), 60)
    assert process.returncode == expect, (process.returncode, err.decode())
    return out.decode() + err.decode()


async def test_list_and_describe_work_from_reflection_alone(server: Server) -> None:
    services = (await grpcurl(server, "list")).split()
    assert {
        "harrow.v1.VirtualMachineService",
        "harrow.v1.ClusterService",
        "harrow.v1.OperationService",
        "harrow.v1.IpPoolService",
        "harrow.v1.MigrationService",
        "harrow.v1.SecurityService",
        "grpc.health.v1.Health",
    } <= set(services)

    methods = (await grpcurl(server, "list", VM)).split()
    assert f"{VM}.CreateVirtualMachine" in methods and f"{VM}.WatchVirtualMachines" in methods
    described = await grpcurl(server, "describe", "harrow.v1.VirtualMachineSpec")
    assert "harrow.v1.VirtualMachineSpec is a message" in described and "run_strategy" in described
    # Dependencies resolve too: the google.longrunning Operation every mutation returns.
    assert "google.longrunning.Operation is a message" in await grpcurl(
        server, "describe", "google.longrunning.Operation"
    )

    health = json.loads(await grpcurl(server, "grpc.health.v1.Health/Check"))
    assert health == {"status": "SERVING"}


async def test_vm_life_cycle_with_requests_on_stdin(server: Server) -> None:
    operation = json.loads(await grpcurl(server, f"{VM}/CreateVirtualMachine", stdin=CREATE))
    assert operation["name"].startswith("operations/") and operation["metadata"]["target"] == NAME

    waited = json.loads(
        await grpcurl(
            server, "harrow.v1.OperationService/WaitOperation", stdin={"name": operation["name"], "timeout": "30s"}
        )
    )
    assert waited["done"] is True and waited["response"]["state"] == "STOPPED"

    vm = json.loads(await grpcurl(server, f"{VM}/GetVirtualMachine", stdin={"name": NAME}))
    # grpcurl prints the proto field names (run_strategy), whichever JSON names it was sent.
    assert vm["spec"]["run_strategy"] == "HALTED" and vm["spec"]["disks"][0]["boot_order"] == 1

    listed = json.loads(
        await grpcurl(
            server,
            f"{VM}/ListVirtualMachines",
            stdin={"parent": "clusters/local/namespaces/-", "filter": 'labels.team = "web"'},
        )
    )
    assert [item["name"] for item in listed["virtual_machines"]] == [NAME]

    update = {
        "virtualMachine": {"name": NAME, "etag": vm["etag"], "spec": {"memory": "8Gi"}},
        # grpcurl 1.8.6 reads a FieldMask only in its message form, not as the "spec.memory" JSON string.
        "updateMask": {"paths": ["spec.memory"]},
    }
    updated = json.loads(await grpcurl(server, f"{VM}/UpdateVirtualMachine", stdin=update))
    assert updated["metadata"]["verb"] == "update"
    assert json.loads(await grpcurl(server, f"{VM}/GetVirtualMachine", stdin={"name": NAME}))["spec"]["memory"] == "8Gi"

    deleted = json.loads(await grpcurl(server, f"{VM}/DeleteVirtualMachine", stdin={"name": NAME}))
    assert deleted["metadata"]["verb"] == "delete"


async def test_allocate_an_ip_from_a_pool(server: Server) -> None:
    pool = {
        "parent": "clusters/local",
        "ipPoolId": "lan",
        "ipPool": {"spec": {"ranges": [{"subnet": "10.0.0.0/29", "gateway": "10.0.0.1"}]}},
    }
    await grpcurl(server, "harrow.v1.IpPoolService/CreateIpPool", stdin=pool)
    allocation = json.loads(
        await grpcurl(
            server,
            "harrow.v1.IpPoolService/AllocateIpAddress",
            stdin={"pool": "clusters/local/ipPools/lan", "owner": "default/web", "address": "10.0.0.5"},
        )
    )
    assert allocation["address"] == "10.0.0.5" and allocation["gateway"] == "10.0.0.1"


async def test_errors_show_the_rich_status_details(server: Server) -> None:
    out = await grpcurl(
        server, f"{VM}/GetVirtualMachine", stdin={"name": NAME + "-missing"}, flags=("-format-error",), expect=64 + 5
    )
    status = json.loads(out)
    assert status["code"] == 5 and "does not exist" in status["message"]
    info = next(d for d in status["details"] if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
    assert info["reason"] == "VIRTUAL_MACHINE_NOT_FOUND" and info["domain"] == "harrow.io"

    bad = {**CREATE, "virtualMachineId": "Bad_Id"}
    out = await grpcurl(server, f"{VM}/CreateVirtualMachine", stdin=bad, flags=("-format-error",), expect=64 + 3)
    details = json.loads(out)["details"]
    violations = next(d for d in details if d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
    assert [v["field"] for v in violations["field_violations"]] == ["virtual_machine_id"]


async def test_resolve_a_migration_policy(server: Server) -> None:
    policy = {
        "parent": "clusters/local",
        "migrationPolicyId": "gold",
        "migrationPolicy": {
            "spec": {"allowPostCopy": True, "selectors": {"virtualMachineInstanceSelector": {"tier": "gold"}}}
        },
    }
    created = json.loads(await grpcurl(server, f"{MIG}/CreateMigrationPolicy", stdin=policy))
    assert created["metadata"]["target"] == "clusters/local/migrationPolicies/gold"

    ask = {"parent": "clusters/local", "virtualMachineInstanceLabels": {"tier": "gold"}, "memory": "8Gi"}
    answer = json.loads(await grpcurl(server, f"{MIG}/ResolveMigrationPolicy", stdin=ask))
    assert answer["policy"] == "clusters/local/migrationPolicies/gold"
    assert answer["candidates"][0]["matches"] is True and answer["effective"]["allow_post_copy"] is True
    provenance = {p["field"]: p["source"] for p in answer["provenance"]}
    assert provenance["allow_post_copy"] == "POLICY" and provenance["completion_timeout_per_gib"] == "VERSION_DEFAULT"
    assert answer["completion_timeout"]["seconds"] == "1350"  # int64 is a JSON string: 150 s * 9 GB

    other = {"parent": "clusters/local", "virtualMachineInstanceLabels": {"tier": "silver"}}
    unmatched = json.loads(await grpcurl(server, f"{MIG}/ResolveMigrationPolicy", stdin=other))
    assert "policy" not in unmatched  # none wins: the cluster's configuration applies
    assert 'has "silver"' in unmatched["candidates"][0]["explanation"]


async def test_migrate_watch_and_evacuate_with_grpcurl_and_rest(server: Server) -> None:
    """The README's live migration walk-through: migrate with grpcurl, read it over REST, evacuate over REST."""
    name = "clusters/local/namespaces/default/virtualMachines/mover"
    running = {**CREATE, "virtualMachineId": "mover"}
    running["virtualMachine"] = {
        **CREATE["virtualMachine"],
        "spec": {**CREATE["virtualMachine"]["spec"], "memory": "1Gi", "runStrategy": "ALWAYS"},
    }
    created = json.loads(await grpcurl(server, f"{VM}/CreateVirtualMachine", stdin=running))
    wait = "harrow.v1.OperationService/WaitOperation"
    await grpcurl(server, wait, stdin={"name": created["name"], "timeout": "30s"})

    async def migratable() -> bool:
        vm = json.loads(await grpcurl(server, f"{VM}/GetVirtualMachine", stdin={"name": name}))
        return any(c["type"] == "LiveMigratable" and c["status"] == "TRUE" for c in vm.get("conditions", []))

    for _ in range(100):
        if await migratable():
            break
        await asyncio.sleep(0.1)
    started = json.loads(
        await grpcurl(server, f"{MIG}/MigrateVirtualMachine", stdin={"name": name, "migrationId": "m1"})
    )
    assert started["metadata"]["verb"] == "migrate"
    done = json.loads(await grpcurl(server, wait, stdin={"name": started["name"], "timeout": "30s"}))
    assert done["done"] is True and done["response"]["state"] == "SUCCEEDED", done
    assert done["response"]["status"]["mode"] == "PRE_COPY"

    base = server.rest
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/v1/{name}/migrations/m1") as response:
            migration = await response.json()
        assert migration["state"] == "SUCCEEDED"
        assert migration["status"]["sourceNode"] != migration["status"]["targetNode"]
        async with http.post(f"{base}/v1/{name}/migrations/m1:cancel", json={}) as response:
            refused = await response.json()
        assert response.status == 400 and refused["error"]["status"] == "FAILED_PRECONDITION"

        node = migration["status"]["targetNode"]
        async with http.post(f"{base}/v1/clusters/local/nodes/{node}:evacuate", json={}) as response:
            evacuation = await response.json()
        assert evacuation["metadata"]["verb"] == "evacuate"
    result = json.loads(await grpcurl(server, wait, stdin={"name": evacuation["name"], "timeout": "30s"}))
    assert name in result["response"]["moved"], result
