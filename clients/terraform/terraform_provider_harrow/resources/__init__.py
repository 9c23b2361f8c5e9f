"""The resource types, one module each; RESOURCES is what the provider serves."""

from terraform_provider_harrow.resources.ip_allocation import IpAllocation
from terraform_provider_harrow.resources.ip_pool import IpPool
from terraform_provider_harrow.resources.migration_config import MigrationConfig
from terraform_provider_harrow.resources.migration_policy import MigrationPolicy
from terraform_provider_harrow.resources.storage_profile import StorageProfile
from terraform_provider_harrow.resources.virtual_machine import VirtualMachine

RESOURCES = [VirtualMachine, IpPool, IpAllocation, MigrationPolicy, MigrationConfig, StorageProfile]
