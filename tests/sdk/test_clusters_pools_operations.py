"""ClusterService, IpPoolService and OperationService through the SDK, asynchronous and blocking."""

from __future__ import annotations

import asyncio

import harrow
import pytest
from harrow.v1 import cluster_pb2, ip_pool_pb2

from tests.sdk.conftest import FAST_RETRY, PARENT, Server, machine

POOL = "clusters/local/ipPools/lan"


async def test_clusters_register_update_and_forget(client: harrow.Client, cluster: str) -> None:
    assert [c.name async for c in client.list_clusters()] == ["clusters/local"]
    local = await client.get_cluster(name="clusters/local")
    assert local.versions  # the cluster reported what it runs

    edge = await client.create_cluster(
        cluster_id="edge", cluster=cluster_pb2.Cluster(display_name="Edge", kubeconfig=cluster)
    )
    assert edge.name == "clusters/edge" and not edge.kubeconfig  # write-only
    renamed = await client.update_cluster(
        cluster=cluster_pb2.Cluster(name=edge.name, display_name="Edge site"), update_mask=["display_name"]
    )
    assert renamed.display_name == "Edge site"
    await client.delete_cluster(name=edge.name, etag=renamed.etag)
    with pytest.raises(harrow.NotFound):
        await client.get_cluster(name=edge.name)


async def test_ip_pools_allocate_and_release(client: harrow.Client) -> None:
    spec = ip_pool_pb2.IpPoolSpec(
        ranges=[ip_pool_pb2.IpRange(subnet="10.0.0.0/29", gateway="10.0.0.1")],
        selector=ip_pool_pb2.IpPoolSelector(  # the global pool: the one Select falls back to
            scopes=[ip_pool_pb2.IpPoolScope(project="*", namespace="*", guest_cluster="*")]
        ),
    )
    # Pool intent is recorded at once; allocations are database transactions and need no reconciling first.
    created = await client.create_ip_pool(
        parent="clusters/local", ip_pool_id="lan", ip_pool=ip_pool_pb2.IpPool(spec=spec)
    )
    assert created.metadata.target == POOL
    assert [p.name async for p in client.list_ip_pools(parent="clusters/local")] == [POOL]

    first = await client.allocate_ip_address(pool=POOL, owner="default/web")
    chosen = await client.allocate_ip_address(pool=POOL, owner="default/db", address="10.0.0.6")
    assert chosen.address == "10.0.0.6" and first.address != chosen.address
    selected = await client.select_and_allocate_ip_address(parent="clusters/local", owner="default/cache")
    assert selected.name.startswith(POOL + "/allocations/")
    assert (await client.get_ip_allocation(name=first.name)).owner == "default/web"
    held = {a.address async for a in client.list_ip_allocations(parent=POOL, page_size=1)}
    assert held == {first.address, chosen.address, selected.address}
    with pytest.raises(harrow.AlreadyExists):
        await client.allocate_ip_address(pool=POOL, owner="default/other", address="10.0.0.6")

    released = await client.release_ip_address(pool=POOL, owner="default/db")
    assert [a.address for a in released.released] == ["10.0.0.6"]
    actions = [e.action async for e in client.list_ip_allocation_events(parent=POOL)]
    assert actions == ["POOL_CREATE", "ALLOCATE", "ALLOCATE", "ALLOCATE", "RELEASE"]

    described = (await client.get_ip_pool(name=POOL)).spec.description
    changed = ip_pool_pb2.IpPool(name=POOL, spec=ip_pool_pb2.IpPoolSpec(description="office LAN"))
    await client.update_ip_pool(ip_pool=changed, update_mask=["spec.description"])
    assert described == "" and (await client.get_ip_pool(name=POOL)).spec.description == "office LAN"
    deleted = await client.delete_ip_pool(name=POOL, force=True)
    assert deleted.metadata.verb == "delete"
    assert [a async for a in client.list_ip_allocations(parent=POOL)] == []


async def test_operations_are_listed_waited_on_and_cancelled(client: harrow.Client) -> None:
    created = await client.create_virtual_machine(parent=PARENT, virtual_machine_id="web-1", virtual_machine=machine())
    fetched = await client.get_operation(name=created.name)
    assert fetched.name == created.name
    listed = [op.name async for op in client.list_operations(name="", filter=f'target = "{created.metadata.target}"')]
    assert listed == [created.name]
    waited = await client.wait_operation(name=created.name, timeout=30)
    assert waited.done

    start = await client.start_virtual_machine(name=created.metadata.target)
    await start.cancel()
    with pytest.raises(harrow.Cancelled):
        await start.result(timeout=10)
    await client.cancel_operation(name=start.name)  # cancelling twice is harmless


async def test_operation_result_times_out_as_deadline_exceeded(client: harrow.Client) -> None:
    # A cluster nobody can reach never shows the intent, so the operation stays pending.
    await client.create_cluster(
        cluster_id="dark",
        cluster=cluster_pb2.Cluster(
            kubeconfig="apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
            "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
            "current-context: x\n"
        ),
    )
    pending = await client.create_virtual_machine(
        parent="clusters/dark/namespaces/default", virtual_machine_id="waits", virtual_machine=machine()
    )
    with pytest.raises(TimeoutError):
        await pending.result(timeout=0.5)
    assert not (await pending.refresh()).done


async def test_sync_client_offers_the_same_calls(server: Server) -> None:
    def script() -> tuple[str, list[str], str]:
        with harrow.SyncClient(server.grpc, retry=FAST_RETRY) as client:
            op = client.create_virtual_machine(parent=PARENT, virtual_machine_id="sync-1", virtual_machine=machine())
            vm = op.result(timeout=30)
            names = [v.name for v in client.list_virtual_machines(parent=PARENT)]
            with pytest.raises(harrow.NotFound):
                client.get_virtual_machine(name=vm.name + "-missing")
            events = client.watch_virtual_machines(parent=PARENT, since_revision=1)
            first = next(events)
            events.close()
            return vm.name, names, first.virtual_machine.name

    name, names, watched = await asyncio.to_thread(script)
    assert names == [name] and watched == name


async def test_client_reads_endpoint_and_token_from_the_environment(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARROW_ENDPOINT", server.grpc)
    monkeypatch.setenv("HARROW_TOKEN", "s3cret")
    async with harrow.Client() as client:
        assert client.endpoint == server.grpc
        assert (await client.get_cluster(name="clusters/local")).name == "clusters/local"
