"""Parallel applies never hand one address to two owners (netbox/phpipam users' `-parallelism=1` workaround)."""

from __future__ import annotations

from tests.terraform.conftest import Rest, Terraform

CONFIG = """
terraform {
  required_providers {
    harrow = { source = "harrow.io/harrow/harrow" }
  }
}

provider "harrow" {}

resource "harrow_ip_pool" "lan" {
  name        = "fifty-$namespace"
  description = ""
  range {
    subnet = "10.88.0.0/24"
  }
  selector {
    priority = 0
    scope {
      namespace = "*"
    }
  }
}

resource "harrow_ip_allocation" "lb" {
  count = 50
  pool  = harrow_ip_pool.lan.id
  owner = "$owner_prefix-$${count.index}"
}

data "harrow_ip_pool" "lan" {
  name       = harrow_ip_pool.lan.name
  depends_on = [harrow_ip_allocation.lb]
}

output "addresses" {
  value = harrow_ip_allocation.lb[*].address
}

output "used" {
  value = data.harrow_ip_pool.lan.used
}
"""


async def test_fifty_allocations_applied_twenty_at_a_time_get_fifty_addresses(
    terraform: Terraform, rest: Rest, namespace: str
) -> None:
    terraform.write(CONFIG, namespace=namespace, owner_prefix="default/lb")
    await terraform.apply("-parallelism=20")
    outputs = await terraform.outputs()
    assert len(set(outputs["addresses"])) == 50
    assert outputs["used"] == 50
    pool = f"clusters/local/ipPools/fifty-{namespace}"
    _, listed = await rest.get(f"{pool}/allocations?pageSize=100")
    assert sorted(item["address"] for item in listed["ipAllocations"]) == sorted(outputs["addresses"])
    # `description = ""` and `priority = 0` are what Harrow stores as unset: still no perpetual diff.
    assert await terraform.plan_is_empty()

    # Every attribute of an allocation is immutable, and the plan says so before anything is done.
    terraform.write(CONFIG, namespace=namespace, owner_prefix="default/web")
    replaced = await terraform.run("plan", "-input=false")
    assert "50 to add, 0 to change, 50 to destroy" in replaced.out
    assert "# forces replacement" in replaced.out

    terraform.write(CONFIG, namespace=namespace, owner_prefix="default/lb")
    await terraform.run("destroy", "-auto-approve", "-input=false", "-parallelism=20")
    assert (await rest.get(pool))[0] == 404
