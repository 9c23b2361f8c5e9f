"""The acceptance cycle of issue 9, with the real terraform binary against a whole Harrow and kubesim.

One configuration holds a VM, an IP pool with an allocation, a migration policy and the migration
config, and each step runs over all of them: apply → an empty second plan → an in-place update
whose saved plan goes stale (refused, ABORTED) → apply, showing the API's edits as diffs → edits on
the cluster, which Harrow puts back, leaving the plan empty → a disk's storage class changed
(refused, naming the field) → the VM deleted behind Terraform's back (created again) → import of
every resource by its Harrow name, leaving the plan empty → destroy, after which neither Harrow nor
the cluster has anything left. examples/terraform runs alongside, as a user would run it against
`make up`, so the example and the harrow_cluster data source are proven without a Harrow of their own.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.terraform.conftest import ROOT, Rest, Terraform, eventually

KV = ("kubevirt.io", "v1")
DV = ("cdi.kubevirt.io", "v1beta1")
IPPOOL = ("loadbalancer.harvesterhci.io", "v1beta1", "ippools")
POLICY = ("migrations.kubevirt.io", "v1alpha1", "migrationpolicies")
MERGE = "application/merge-patch+json"
HOLD = "example.com/hold"  # a finalizer of the test's, to keep a deleted VM TERMINATING while it looks

CONFIG = """
terraform {
  required_providers {
    harrow = { source = "harrow.io/harrow/harrow" }
  }
}

provider "harrow" {}

resource "harrow_virtual_machine" "web" {
  namespace    = "$namespace"
  name         = "web"
  memory       = "$memory"
  run_strategy = "ALWAYS"
  labels       = { team = "web"$extra_label }

  cpu {
    cores = 1
  }
  disk {
    name       = "root"
    boot_order = 1
    image {
      url           = "docker://quay.io/containerdisks/fedora:41"
      size          = "2Gi"
      storage_class = "$storage_class"
    }
  }
  interface {
    name    = "default"
    network = "pod"
  }
  cloud_init {
    user_data = "#cloud-config\\n"
  }
}

resource "harrow_ip_pool" "lan" {
  name        = "lan-$namespace"
  description = "$pool_description"
  range {
    subnet = "10.77.0.0/24"
  }
  selector {
    priority = 10
  }
}

resource "harrow_ip_allocation" "lb" {
  pool  = harrow_ip_pool.lan.id
  owner = "$namespace/lb"
}

resource "harrow_migration_policy" "db" {
  name                       = "db-$namespace"
  allow_post_copy            = false
  completion_timeout_per_gib = $policy_timeout
  selectors {
    virtual_machine_instance_selector = { tier = "db" }
  }
}

resource "harrow_migration_config" "local" {
  completion_timeout_per_gib = 300
}

output "vm" {
  value = {
    id    = harrow_virtual_machine.web.id
    uid   = harrow_virtual_machine.web.uid
    state = harrow_virtual_machine.web.state
    node  = harrow_virtual_machine.web.node
    ips   = harrow_virtual_machine.web.ip_addresses
  }
}

output "lb" {
  value = harrow_ip_allocation.lb.id
}
"""

FIRST = {"memory": "1Gi", "extra_label": "", "storage_class": "harvester-longhorn"}
FIRST |= {"pool_description": "lab", "policy_timeout": "100"}
UPDATED = {**FIRST, "memory": "2Gi", "extra_label": ', tier = "db"', "pool_description": "lab v2"}
UPDATED["policy_timeout"] = "200"


def flat(text: str) -> str:
    """Terraform's output with runs of whitespace as one space (its column alignment moves with the schema)."""
    return " ".join(text.split())


async def gone(read: Callable[[], Awaitable[Any]]) -> bool:
    try:
        await read()
    except ApiException as error:
        return error.status == 404
    return False


async def test_apply_update_drift_import_destroy(
    terraform: Terraform, rest: Rest, kube: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    custom = client.CustomObjectsApi(kube)
    core = client.CoreV1Api(kube)
    vm_name = f"clusters/local/namespaces/{namespace}/virtualMachines/web"
    pool_name = f"clusters/local/ipPools/lan-{namespace}"
    policy_name = f"clusters/local/migrationPolicies/db-{namespace}"
    example = Example(tmp_path, terraform, rest, custom, core)

    async def cluster_vm() -> dict[str, Any]:
        return dict(await custom.get_namespaced_custom_object(*KV, namespace, "virtualmachines", "web"))

    async def cluster_memory() -> str:
        return str((await cluster_vm())["spec"]["template"]["spec"]["domain"]["memory"]["guest"])

    async def root_class() -> str:
        volume = await custom.get_namespaced_custom_object(*DV, namespace, "datavolumes", "web-root")
        return str(volume["spec"]["storage"]["storageClassName"])

    async def cluster_pool() -> dict[str, Any]:
        return dict(await custom.get_cluster_custom_object(*IPPOOL, f"lan-{namespace}"))

    async def cluster_policy() -> dict[str, Any]:
        return dict(await custom.get_cluster_custom_object(*POLICY, f"db-{namespace}"))

    running: list[asyncio.Task[Any]] = []  # terraform runs in tasks of their own

    async def together(*steps: Coroutine[Any, Any, Any]) -> list[Any]:
        """Steps side by side. One failing leaves the others running: the `finally` below stops them."""
        tasks = [asyncio.create_task(step) for step in steps]
        running.extend(tasks)
        return await asyncio.gather(*tasks)

    try:
        # apply returns once the VM runs: its node and address are known to the outputs at once.
        terraform.write(CONFIG, namespace=namespace, **FIRST)
        await together(terraform.apply(), example.apply())
        created = (await terraform.outputs())["vm"]
        assert (created["id"], created["state"]) == (vm_name, "RUNNING")
        assert created["node"] and created["ips"]
        assert await root_class() == "harvester-longhorn"
        small = await cluster_memory()  # the guest memory Harrow sized from 1Gi (Harvester keeps some back)
        uids = {name: (await rest.get(name))[1]["uid"] for name in (pool_name, policy_name)}
        empty, example_empty = await together(terraform.plan_is_empty(), example.plan_is_empty())
        assert empty and example_empty

        # A saved plan goes stale when the VM changes through the API meanwhile: its etag no longer matches,
        # so Harrow refuses the update (ABORTED) instead of overwriting that change. The pool and the policy,
        # unchanged meanwhile, are updated in place.
        terraform.write(CONFIG, namespace=namespace, **UPDATED)
        await terraform.run("plan", "-input=false", "-out=plan.bin")
        _, stored = await rest.get(vm_name)
        await rest.wait(await rest.patch(vm_name, {"etag": stored["etag"], "spec": {"memory": "4Gi"}}, "spec.memory"))
        stale = await terraform.run("apply", "-input=false", "plan.bin", expect=1)
        assert "ABORTED" in stale.err and "run the plan again" in flat(stale.err)
        _, stored = await rest.get(vm_name)
        assert (stored["spec"]["memory"], stored["labels"]) == ("4Gi", {"team": "web"})
        _, pool = await rest.get(pool_name)
        _, policy = await rest.get(policy_name)
        assert (pool["uid"], pool["spec"]["description"]) == (uids[pool_name], "lab v2")
        assert (policy["uid"], policy["spec"]["completionTimeoutPerGiB"]) == (uids[policy_name], "200")
        assert (await cluster_pool())["spec"]["description"] == "lab v2"
        assert (await cluster_policy())["spec"]["completionTimeoutPerGiB"] == 200

        # Changes through Harrow's API are drift the plan shows, and apply undoes them: the VM's (from above),
        # and now the pool's and the policy's. The VM's own update goes through at last, in place.
        await rest.wait(
            await rest.patch(pool_name, {"etag": pool["etag"], "spec": {"description": "api"}}, "spec.description")
        )
        body = {"etag": policy["etag"], "spec": {**policy["spec"], "completionTimeoutPerGiB": "999"}}
        await rest.wait(await rest.patch(policy_name, body, "spec"))
        drifted = flat((await terraform.apply()).out)
        assert 'memory = "4Gi" -> "2Gi"' in drifted and 'description = "api" -> "lab v2"' in drifted
        assert "completion_timeout_per_gib = 999 -> 200" in drifted
        assert "0 to add, 3 to change, 0 to destroy" in drifted and "must be replaced" not in drifted
        assert (await terraform.outputs())["vm"]["uid"] == created["uid"]
        large = await cluster_memory()
        assert large != small
        _, stored = await rest.get(vm_name)
        assert (stored["spec"]["memory"], stored["labels"]) == ("2Gi", {"team": "web", "tier": "db"})
        assert (await rest.get(pool_name))[1]["spec"]["description"] == "lab v2"

        # kubectl edits on the cluster land, then Harrow puts them back, and Terraform has nothing to do.
        landed = await custom.patch_namespaced_custom_object(
            *KV,
            namespace,
            "virtualmachines",
            "web",
            {"spec": {"template": {"spec": {"domain": {"memory": {"guest": "3Gi"}}}}}},
            _content_type=MERGE,
        )
        assert landed["spec"]["template"]["spec"]["domain"]["memory"]["guest"] == "3Gi"
        landed = await custom.patch_cluster_custom_object(
            *IPPOOL, f"lan-{namespace}", {"spec": {"description": "kubectl"}}, _content_type=MERGE
        )
        assert landed["spec"]["description"] == "kubectl"
        landed = await custom.patch_cluster_custom_object(
            *POLICY, f"db-{namespace}", {"spec": {"completionTimeoutPerGiB": 1}}, _content_type=MERGE
        )
        assert landed["spec"]["completionTimeoutPerGiB"] == 1

        async def put_back() -> bool:
            pool_back = (await cluster_pool())["spec"].get("description") == "lab v2"
            policy_back = (await cluster_policy())["spec"].get("completionTimeoutPerGiB") == 200
            return await cluster_memory() == large and pool_back and policy_back

        await eventually(put_back, within=30)
        assert await terraform.plan_is_empty(), terraform.last_plan

        # A disk's volume is made once: a new storage class is refused, naming the field, and changes nothing.
        # The provider asks Harrow (validate_only) while planning, so the apply stops before it starts.
        _, before = await rest.get(vm_name)
        terraform.write(CONFIG, namespace=namespace, **{**UPDATED, "storage_class": "longhorn-rwo"})
        refused = flat((await terraform.apply_failing()).err)
        assert "INVALID_ARGUMENT" in refused and "virtual_machine.spec.disks[0].image.storage_class:" in refused
        assert "replace the disk" in refused and "Harrow would refuse to update" in refused
        _, after = await rest.get(vm_name)
        assert (after["etag"], after["spec"]) == (before["etag"], before["spec"])
        assert await root_class() == "harvester-longhorn"
        terraform.write(CONFIG, namespace=namespace, **UPDATED)

        # The VM deleted behind Terraform's back. Deletion is asynchronous: while Harrow still deletes it (held here
        # by a finalizer of the test's), the refresh already drops it and the plan creates it again. Harrow refuses
        # that create (the name is still taken), so the provider waits the deletion out, then creates it.
        held = [*(await cluster_vm())["metadata"]["finalizers"], HOLD]
        await custom.patch_namespaced_custom_object(
            *KV, namespace, "virtualmachines", "web", {"metadata": {"finalizers": held}}, _content_type=MERGE
        )
        await rest.delete(vm_name)
        refused_before = await rest.refused_creates()
        recreating = asyncio.create_task(terraform.apply())
        running.append(recreating)

        async def create_refused() -> bool:
            return await rest.refused_creates() > refused_before

        await eventually(create_refused, within=30)
        assert (await rest.get(vm_name))[1].get("deleteTime"), "the old VM should still be terminating"
        let_go = {"metadata": {"finalizers": [item for item in held if item != HOLD]}}
        await custom.patch_namespaced_custom_object(
            *KV, namespace, "virtualmachines", "web", let_go, _content_type=MERGE
        )
        recreated_plan = (await recreating).out
        assert "harrow_virtual_machine.web will be created" in recreated_plan
        assert "1 to add, 0 to change, 0 to destroy" in recreated_plan
        outputs = await terraform.outputs()
        recreated = outputs["vm"]
        assert recreated["uid"] != created["uid"] and recreated["state"] == "RUNNING"

        # Import by Harrow resource name fills every attribute Harrow holds: nothing to send, nothing to change.
        addresses = {
            "harrow_virtual_machine.web": vm_name,
            "harrow_ip_pool.lan": pool_name,
            "harrow_ip_allocation.lb": outputs["lb"],
            "harrow_migration_policy.db": policy_name,
            "harrow_migration_config.local": "clusters/local/migrationConfig",
        }
        await terraform.run("state", "rm", *addresses)
        for address, name in addresses.items():
            await terraform.run("import", "-input=false", address, name)
        assert await terraform.plan_is_empty(), terraform.last_plan

        await together(terraform.run("destroy", "-auto-approve", "-input=false"), example.destroy())
        for name in (vm_name, pool_name, policy_name, addresses["harrow_ip_allocation.lb"]):
            assert (await rest.get(name))[0] == 404, f"{name} is still in Harrow after destroy"
        _, config = await rest.get("clusters/local/migrationConfig")
        assert config.get("spec", {}) == {}
        await assert_gone_from_cluster(custom, core, namespace, "web", f"lan-{namespace}", f"db-{namespace}")
        await example.assert_gone()

        # Every change, the provider's and the test's own, carried a request id; the provider's are fresh UUIDs.
        # The VM's stale and refused updates made none; the pool and the policy were updated by the stale plan and
        # by the apply that undid the API's edits.
        provider_verbs = {
            vm_name: ["create", "create", "delete", "update"],
            pool_name: ["create", "delete", "update", "update"],
            policy_name: ["create", "delete", "update", "update"],
        }
        for target, verbs in provider_verbs.items():
            operations = await rest.operations(target)
            assert all(operation["metadata"].get("requestId") for operation in operations), operations
            by_provider = [op["metadata"] for op in operations if op["metadata"]["requestId"] not in rest.request_ids]
            request_ids = [uuid.UUID(metadata["requestId"]) for metadata in by_provider]
            assert len(set(request_ids)) == len(request_ids), by_provider
            assert sorted(metadata["verb"] for metadata in by_provider) == verbs, by_provider
            assert len(operations) - len(by_provider) == (2 if target == vm_name else 1), operations  # the test's own
    finally:
        for task in running:  # a failure above left it running: stop it (and its terraform) before tearing down
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await example.destroy_if_left()
    print(f"acceptance cycle: {time.monotonic() - started:.1f}s")


async def assert_gone_from_cluster(
    custom: client.CustomObjectsApi, core: client.CoreV1Api, namespace: str, vm: str, pool: str, policy: str
) -> None:
    """The VM, its root disk's DataVolume and PVC (collected after the VM), the IPPool and the MigrationPolicy."""
    assert await gone(lambda: custom.get_namespaced_custom_object(*KV, namespace, "virtualmachines", vm))
    assert await gone(lambda: custom.get_cluster_custom_object(*IPPOOL, pool)), f"IPPool {pool} is left"
    assert await gone(lambda: custom.get_cluster_custom_object(*POLICY, policy)), f"MigrationPolicy {policy} is left"

    async def disk_gone() -> bool:
        data_volume = await gone(
            lambda: custom.get_namespaced_custom_object(*DV, namespace, "datavolumes", f"{vm}-root")
        )
        return data_volume and await gone(lambda: core.read_namespaced_persistent_volume_claim(f"{vm}-root", namespace))

    await eventually(disk_gone, within=30)


class Example:
    """examples/terraform/main.tf, copied as is into a directory of its own and pointed at the test's Harrow."""

    def __init__(
        self, tmp_path: Path, terraform: Terraform, rest: Rest, custom: client.CustomObjectsApi, core: client.CoreV1Api
    ) -> None:
        workdir = tmp_path / "example"
        workdir.mkdir()
        shutil.copy(ROOT / "examples" / "terraform" / "main.tf", workdir / "main.tf")
        self.terraform = Terraform(workdir, terraform.env)
        self._rest, self._custom, self._core = rest, custom, core
        self._destroyed = False

    async def apply(self) -> None:
        await self.terraform.apply()
        outputs = await self.terraform.outputs()
        assert outputs["cluster_versions"], outputs  # the harrow_cluster data source
        assert outputs["web"]["state"] == "RUNNING" and outputs["web"]["node"] and outputs["web"]["ips"]
        assert re.fullmatch(r"10\.0\.0\.\d+/24 via 10\.0\.0\.1", outputs["lb_address"]), outputs["lb_address"]
        assert outputs["nfs_overhead"].startswith("0.2 ("), outputs["nfs_overhead"]

    async def plan_is_empty(self) -> bool:
        return await self.terraform.plan_is_empty()

    async def destroy(self) -> None:
        await self.terraform.run("destroy", "-auto-approve", "-input=false")
        self._destroyed = True

    async def destroy_if_left(self) -> None:
        """After a failed cycle: the example's objects are in the session's shared cluster, and its fixed names
        and nfs override would trouble the tests that come next."""
        if not self._destroyed:
            await self.terraform.run("destroy", "-auto-approve", "-input=false", expect=(0, 1))

    async def assert_gone(self) -> None:
        for name in (
            "clusters/local/namespaces/default/virtualMachines/web-1",
            "clusters/local/ipPools/lan",
            "clusters/local/migrationPolicies/frontend",
        ):
            assert (await self._rest.get(name))[0] == 404, f"{name} is still in Harrow after the example's destroy"
        _, profile = await self._rest.get("clusters/local/storageProfiles/nfs")
        assert profile.get("spec", {}) == {}, profile
        await assert_gone_from_cluster(self._custom, self._core, "default", "web-1", "lan", "frontend")
