"""What Terraform users of other VM providers run into: resources deleted behind Terraform's back, apply
timeouts, and credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import yaml

from kubesim import KubeSim
from server.app import Harrow
from server.auth.bootstrap import bootstrap_admin
from server.config import AuthConfig, ListenConfig, ReconcileConfig, Settings
from tests.terraform.conftest import Rest, Terraform

HEADER = """
terraform {
  required_providers {
    harrow = { source = "harrow.io/harrow/harrow" }
  }
}

provider "harrow" {}
"""

POOL = (
    HEADER
    + """
resource "harrow_ip_pool" "lan" {
  name = "gone-$namespace"
  range {
    subnet = "10.99.0.0/24"
  }
}
"""
)


async def test_a_resource_deleted_outside_terraform_leaves_state_and_is_planned_again(
    terraform: Terraform, rest: Rest, namespace: str
) -> None:
    terraform.write(POOL, namespace=namespace)
    await terraform.apply()
    await rest.delete(f"clusters/local/ipPools/gone-{namespace}")

    planned = await terraform.run("plan", "-detailed-exitcode", "-input=false", expect=2)
    assert "harrow_ip_pool.lan will be created" in planned.out
    await terraform.apply()
    assert (await rest.get(f"clusters/local/ipPools/gone-{namespace}"))[0] == 200
    await terraform.run("destroy", "-auto-approve", "-input=false")


UNSCHEDULABLE_VM = (
    HEADER
    + """
resource "harrow_virtual_machine" "stuck" {
  namespace    = "$namespace"
  name         = "stuck"
  memory       = "1Gi"
  run_strategy = "ALWAYS"
  cpu {
    cores = 1
  }
  placement {
    node_selector = { "example.com/no-such-node" = "true" }
  }
  timeouts {
    create = "3s"
  }
}
"""
)


async def test_a_create_that_times_out_is_kept_tainted_not_orphaned(terraform: Terraform, namespace: str) -> None:
    terraform.write(UNSCHEDULABLE_VM, namespace=namespace)
    failed = await terraform.apply_failing()
    assert "Timed out waiting for the create" in failed.err
    shown = await terraform.run("state", "show", "harrow_virtual_machine.stuck")
    assert "tainted" in shown.out and 'state = "ERROR_UNSCHEDULABLE"' in " ".join(shown.out.split())
    planned = await terraform.run("plan", "-input=false")
    assert "is tainted, so must be replaced" in planned.out
    await terraform.run("destroy", "-auto-approve", "-input=false")


@pytest.fixture
async def secured(database_url: str, sim: KubeSim) -> AsyncIterator[tuple[str, str]]:
    """A Harrow that requires tokens: its REST endpoint and the bootstrap admin's token."""
    settings = Settings(
        listen=ListenConfig(host="127.0.0.1", grpc_port=0, rest_port=0),
        database_url=database_url,
        database_pool_size=5,
        reconcile=replace(ReconcileConfig(), poll_seconds=0.2, operation_deadline_seconds=30.0),
        auth=AuthConfig(authenticate=True),
    )
    app = Harrow(settings, local_kubeconfig=yaml.safe_dump(sim.kubeconfig()))
    admin = await bootstrap_admin(app.db)
    assert admin is not None
    endpoints = await app.start()
    try:
        yield endpoints.rest, admin
    finally:
        await app.stop(0)


async def test_the_provider_authenticates_with_a_token_made_through_the_security_api(
    secured: tuple[str, str], terraform_env: dict[str, str], tmp_path: Path, namespace: str
) -> None:
    endpoint, admin = secured
    headers = {"Authorization": f"Bearer {admin}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        principal = {"roleBindings": [{"role": "ADMIN", "cluster": "local"}]}
        async with session.post(f"{endpoint}/v1/principals?principalId=terraform", json=principal) as answer:
            assert answer.status == 200, await answer.text()
        async with session.post(f"{endpoint}/v1/principals/terraform/tokens", json={}) as answer:
            assert answer.status == 200, await answer.text()
            secret = (await answer.json())["secret"]

    workdir = tmp_path / "secured"
    workdir.mkdir()
    env = {**terraform_env, "HARROW_ENDPOINT": endpoint}
    unauthenticated = Terraform(workdir, {**env, "HARROW_TOKEN": "harrow_not-a-token"})
    unauthenticated.write(POOL, namespace=namespace)
    refused = await unauthenticated.apply_failing()
    assert "UNAUTHENTICATED" in refused.err

    authenticated = Terraform(workdir, {**env, "HARROW_TOKEN": secret})
    await authenticated.apply()
    assert await authenticated.plan_is_empty()
    await authenticated.run("destroy", "-auto-approve", "-input=false")
