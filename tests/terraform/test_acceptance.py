"""The acceptance cycle of issue 9, with the real terraform binary against a whole Harrow and kubesim.

apply → an empty second plan → an in-place update → an out-of-band edit on the cluster, which
Harrow puts back, leaving the plan empty → an edit through Harrow's API, which the plan shows →
import of every resource by its Harrow name, leaving the plan empty → destroy, after which
neither Harrow nor the cluster has anything left.
"""

from __future__ import annotations

import json
import time

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.terraform.conftest import Rest, Terraform, eventually

KV = ("kubevirt.io", "v1")

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
      url  = "docker://quay.io/containerdisks/fedora:41"
      size = "2Gi"
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
  name = "lan-$namespace"
  range {
    subnet = "10.77.0.0/24"
  }
  selector {
    priority = 10
  }
}

resource "harrow_migration_policy" "db" {
  name                       = "db-$namespace"
  allow_post_copy            = false
  completion_timeout_per_gib = 100
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
"""


async def changed_attributes(terraform: Terraform) -> dict[str, set[str]]:
    """For each resource the plan changes, the attributes that differ (from `terraform show -json`)."""
    await terraform.run("plan", "-input=false", "-out=plan.bin")
    plan = json.loads((await terraform.run("show", "-json", "plan.bin")).out)
    changed = {}
    for change in plan["resource_changes"]:
        before, after = change["change"]["before"], change["change"]["after"]
        if change["change"]["actions"] != ["no-op"]:
            changed[change["address"]] = {key for key in after if before.get(key) != after[key]}
    return changed


async def test_apply_update_drift_import_destroy(
    terraform: Terraform, rest: Rest, kube: client.ApiClient, namespace: str
) -> None:
    started = time.monotonic()
    custom = client.CustomObjectsApi(kube)
    vm_name = f"clusters/local/namespaces/{namespace}/virtualMachines/web"

    async def cluster_memory() -> str:
        vm = await custom.get_namespaced_custom_object(*KV, namespace, "virtualmachines", "web")
        return str(vm["spec"]["template"]["spec"]["domain"]["memory"]["guest"])

    # apply returns once the VM runs: its node and address are known to the outputs at once.
    terraform.write(CONFIG, namespace=namespace, memory="1Gi", extra_label="")
    await terraform.apply()
    created = (await terraform.outputs())["vm"]
    assert (created["id"], created["state"]) == (vm_name, "RUNNING")
    assert created["node"] and created["ips"]
    small = await cluster_memory()  # the guest memory Harrow sized from 1Gi (Harvester keeps some back)
    assert await terraform.plan_is_empty()

    # In place: same uid, the cluster follows before apply returns. (apply prints the plan it carries out, so it
    # is read there rather than from a separate `plan`, which cost a whole terraform run.)
    terraform.write(CONFIG, namespace=namespace, memory="2Gi", extra_label=', tier = "db"')
    planned = await terraform.apply()
    assert "0 to add, 1 to change, 0 to destroy" in planned.out and "must be replaced" not in planned.out
    assert (await terraform.outputs())["vm"]["uid"] == created["uid"]
    large = await cluster_memory()
    assert large != small
    _, stored = await rest.get(vm_name)
    assert (stored["spec"]["memory"], stored["labels"]) == ("2Gi", {"team": "web", "tier": "db"})
    assert await terraform.plan_is_empty()

    # kubectl edit on the cluster: Harrow puts it back, and Terraform has nothing to do.
    await custom.patch_namespaced_custom_object(
        *KV,
        namespace,
        "virtualmachines",
        "web",
        {"spec": {"template": {"spec": {"domain": {"memory": {"guest": "3Gi"}}}}}},
        _content_type="application/merge-patch+json",
    )

    async def put_back() -> bool:
        return await cluster_memory() == large

    await eventually(put_back, within=10)
    assert await terraform.plan_is_empty()

    # A change through Harrow's API is drift Terraform shows, and apply undoes it.
    operation = await rest.patch(vm_name, {"etag": stored["etag"], "spec": {"memory": "4Gi"}}, "spec.memory")
    await rest.wait(operation)
    drifted = await terraform.apply()
    assert '~ memory              = "4Gi" -> "2Gi"' in drifted.out and "0 to add, 1 to change" in drifted.out
    assert await cluster_memory() == large

    # Import by Harrow resource name fills every attribute Harrow holds: nothing to send, nothing to change.
    addresses = {
        "harrow_virtual_machine.web": vm_name,
        "harrow_ip_pool.lan": f"clusters/local/ipPools/lan-{namespace}",
        "harrow_migration_policy.db": f"clusters/local/migrationPolicies/db-{namespace}",
        "harrow_migration_config.local": "clusters/local/migrationConfig",
    }
    await terraform.run("state", "rm", *addresses)
    for address, name in addresses.items():
        await terraform.run("import", "-input=false", address, name)
    assert await changed_attributes(terraform) == {}

    await terraform.run("destroy", "-auto-approve", "-input=false")
    for name in (vm_name, f"clusters/local/ipPools/lan-{namespace}"):
        assert (await rest.get(name))[0] == 404
    assert (await rest.get(f"clusters/local/migrationPolicies/db-{namespace}"))[0] == 404
    _, config = await rest.get("clusters/local/migrationConfig")
    assert config.get("spec", {}) == {}
    try:
        await custom.get_namespaced_custom_object(*KV, namespace, "virtualmachines", "web")
        raise AssertionError("the VM is still on the cluster after destroy")
    except ApiException as error:
        assert error.status == 404
    print(f"acceptance cycle: {time.monotonic() - started:.1f}s")
