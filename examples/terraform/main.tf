# A VM, an IP pool with an address held for a load balancer, a migration policy and a storage profile
# override, on `make up`'s simulated Harvester cluster. See README.md here for the steps.

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
}

# What the default StorageClass's volumes can do (live migration needs ReadWriteMany).
data "harrow_storage_class" "default" {
  name = "harvester-longhorn"
}

# The nfs class's profile exists already (CDI keeps one per StorageClass): this sets its overrides,
# and destroy clears them again. A 20% filesystem overhead leaves room for small images.
resource "harrow_storage_profile" "nfs" {
  storage_class       = "nfs"
  filesystem_overhead = "0.2"
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

output "default_storage" {
  value = {
    provisioner    = data.harrow_storage_class.default.provisioner
    live_migration = data.harrow_storage_class.default.capabilities.live_migration && data.harrow_storage_class.default.read_write_many
    modes          = data.harrow_storage_class.default.claim_property_sets
  }
}

output "nfs_overhead" {
  value = "${harrow_storage_profile.nfs.effective_filesystem_overhead} (${harrow_storage_profile.nfs.filesystem_overhead_source})"
}

output "lb_address" {
  value = "${harrow_ip_allocation.lb.address}/${harrow_ip_allocation.lb.prefix_length} via ${harrow_ip_allocation.lb.gateway}"
}
