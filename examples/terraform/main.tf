# A VM, an IP pool with an address held for a load balancer, and a migration policy, on `make up`'s
# simulated Harvester cluster. See README.md here for the steps.

terraform {
  required_providers {
    harrow = { source = "harrow.io/harrow/harrow" }
  }
}

# endpoint and token come from HARROW_ENDPOINT and HARROW_TOKEN.
provider "harrow" {}

data "harrow_cluster" "local" {
  name = "local"
}

resource "harrow_virtual_machine" "web" {
  name         = "web-1"
  memory       = "4Gi"
  run_strategy = "ALWAYS"
  labels       = { team = "web", tier = "frontend" }

  cpu {
    cores = 2
  }

  disk {
    name       = "root"
    boot_order = 1
    image {
      url  = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img"
      size = "20Gi"
    }
  }

  interface {
    name    = "default"
    network = "pod"
  }

  cloud_init {
    user_data = "#cloud-config\npackages: [nginx]\n"
  }

  # VMs take a while on real clusters; apply waits until the VM runs, up to this long.
  timeouts {
    create = "20m"
  }
}

resource "harrow_ip_pool" "lan" {
  name = "lan"
  range {
    subnet = "10.0.0.0/24"
  }
}

resource "harrow_ip_allocation" "lb" {
  pool  = harrow_ip_pool.lan.id
  owner = "default/lb-web"
}

resource "harrow_migration_policy" "frontend" {
  name                       = "frontend"
  allow_auto_converge        = true
  completion_timeout_per_gib = 300
  selectors {
    virtual_machine_instance_selector = { tier = "frontend" }
  }
  # Harrow does not apply migration policies to the cluster yet, so their Operations do not finish.
  wait_for_cluster = false
}

output "cluster_versions" {
  value = data.harrow_cluster.local.versions
}

output "web" {
  value = {
    state = harrow_virtual_machine.web.state
    node  = harrow_virtual_machine.web.node
    ips   = harrow_virtual_machine.web.ip_addresses
  }
}

output "lb_address" {
  value = "${harrow_ip_allocation.lb.address}/${harrow_ip_allocation.lb.prefix_length} via ${harrow_ip_allocation.lb.gateway}"
}
