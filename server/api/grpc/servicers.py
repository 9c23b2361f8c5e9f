"""gRPC servicers: proto in, service call, proto out. Nothing else.

They raise domain errors; `guard` (below, applied when registering with the
gRPC server) turns those into rich statuses, while the REST transcoder calls
the same methods directly and renders the same errors as JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from google.longrunning import operations_pb2
from google.protobuf import empty_pb2
from harrow.v1 import backup_pb2 as bk_pb
from harrow.v1 import (
    backup_pb2_grpc,
    cluster_pb2,
    cluster_pb2_grpc,
    ip_pool_pb2_grpc,
    migration_pb2_grpc,
    operations_pb2_grpc,
    security_pb2_grpc,
    storage_pb2_grpc,
    virtual_machine_pb2_grpc,
)
from harrow.v1 import ip_pool_pb2 as ip_pb
from harrow.v1 import migration_pb2 as mig_pb
from harrow.v1 import security_pb2 as sec_pb
from harrow.v1 import storage_pb2 as st_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb

from server.auth import context as auth
from server.services.backups import BackupService
from server.services.clusters import ClusterService
from server.services.ip_pools import IpPoolService
from server.services.migrations import MigrationService
from server.services.operations import OperationService
from server.services.security import SecurityService
from server.services.storage_profiles import StorageService
from server.services.virtual_machines import VirtualMachineService

Context = object


class VirtualMachineServicer(virtual_machine_pb2_grpc.VirtualMachineServiceServicer):
    def __init__(self, service: VirtualMachineService):
        self._service = service

    async def GetVirtualMachine(
        self, request: vm_pb.GetVirtualMachineRequest, context: Context
    ) -> vm_pb.VirtualMachine:
        return await self._service.get(request)

    async def ListVirtualMachines(
        self, request: vm_pb.ListVirtualMachinesRequest, context: Context
    ) -> vm_pb.ListVirtualMachinesResponse:
        return await self._service.list(request, namespaces=auth.visible_namespaces(request.parent))

    async def CreateVirtualMachine(
        self, request: vm_pb.CreateVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.create(request)

    async def UpdateVirtualMachine(
        self, request: vm_pb.UpdateVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.update(request)

    async def DeleteVirtualMachine(
        self, request: vm_pb.DeleteVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.delete(request)

    async def AdoptVirtualMachine(
        self, request: vm_pb.AdoptVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.adopt(request)

    async def StartVirtualMachine(
        self, request: vm_pb.StartVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("START", request)

    async def StopVirtualMachine(
        self, request: vm_pb.StopVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("STOP", request)

    async def RestartVirtualMachine(
        self, request: vm_pb.RestartVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("RESTART", request)

    async def PauseVirtualMachine(
        self, request: vm_pb.PauseVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("PAUSE", request)

    async def UnpauseVirtualMachine(
        self, request: vm_pb.UnpauseVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("UNPAUSE", request)

    async def WatchVirtualMachines(
        self, request: vm_pb.WatchVirtualMachinesRequest, context: Context
    ) -> AsyncIterator[vm_pb.WatchVirtualMachinesResponse]:
        async for event in self._service.watch(request, namespaces=auth.visible_namespaces(request.parent)):
            yield event


class ClusterServicer(cluster_pb2_grpc.ClusterServiceServicer):
    def __init__(self, service: ClusterService):
        self._service = service

    async def GetCluster(self, request: cluster_pb2.GetClusterRequest, context: Context) -> cluster_pb2.Cluster:
        return await self._service.get(request)

    async def ListClusters(
        self, request: cluster_pb2.ListClustersRequest, context: Context
    ) -> cluster_pb2.ListClustersResponse:
        return await self._service.list(request, clusters=auth.caller().clusters())

    async def CreateCluster(self, request: cluster_pb2.CreateClusterRequest, context: Context) -> cluster_pb2.Cluster:
        return await self._service.create(request)

    async def UpdateCluster(self, request: cluster_pb2.UpdateClusterRequest, context: Context) -> cluster_pb2.Cluster:
        return await self._service.update(request)

    async def DeleteCluster(self, request: cluster_pb2.DeleteClusterRequest, context: Context) -> empty_pb2.Empty:
        return await self._service.delete(request)


class OperationServicer(operations_pb2_grpc.OperationServiceServicer):
    def __init__(self, service: OperationService):
        self._service = service

    async def GetOperation(
        self, request: operations_pb2.GetOperationRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.get(request)

    async def ListOperations(
        self, request: operations_pb2.ListOperationsRequest, context: Context
    ) -> operations_pb2.ListOperationsResponse:
        return await self._service.list(request, targets=auth.caller().target_patterns())

    async def WaitOperation(
        self, request: operations_pb2.WaitOperationRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.wait(request)

    async def CancelOperation(
        self, request: operations_pb2.CancelOperationRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._service.cancel(request)
        return empty_pb2.Empty()


class IpPoolServicer(ip_pool_pb2_grpc.IpPoolServiceServicer):
    def __init__(self, service: IpPoolService):
        self._service = service

    async def GetIpPool(self, request: ip_pb.GetIpPoolRequest, context: Context) -> ip_pb.IpPool:
        return await self._service.get_pool(request)

    async def ListIpPools(self, request: ip_pb.ListIpPoolsRequest, context: Context) -> ip_pb.ListIpPoolsResponse:
        return await self._service.list_pools(request)

    async def CreateIpPool(self, request: ip_pb.CreateIpPoolRequest, context: Context) -> operations_pb2.Operation:
        return await self._service.create_pool(request)

    async def UpdateIpPool(self, request: ip_pb.UpdateIpPoolRequest, context: Context) -> operations_pb2.Operation:
        return await self._service.update_pool(request)

    async def DeleteIpPool(self, request: ip_pb.DeleteIpPoolRequest, context: Context) -> operations_pb2.Operation:
        return await self._service.delete_pool(request)

    async def AllocateIpAddress(self, request: ip_pb.AllocateIpAddressRequest, context: Context) -> ip_pb.IpAllocation:
        return await self._service.allocate(request)

    async def SelectAndAllocateIpAddress(
        self, request: ip_pb.SelectAndAllocateIpAddressRequest, context: Context
    ) -> ip_pb.IpAllocation:
        return await self._service.select_and_allocate(request)

    async def ReleaseIpAddress(
        self, request: ip_pb.ReleaseIpAddressRequest, context: Context
    ) -> ip_pb.ReleaseIpAddressResponse:
        return await self._service.release(request)

    async def GetIpAllocation(self, request: ip_pb.GetIpAllocationRequest, context: Context) -> ip_pb.IpAllocation:
        return await self._service.get_allocation(request)

    async def ListIpAllocations(
        self, request: ip_pb.ListIpAllocationsRequest, context: Context
    ) -> ip_pb.ListIpAllocationsResponse:
        return await self._service.list_allocations(request)

    async def ListIpAllocationEvents(
        self, request: ip_pb.ListIpAllocationEventsRequest, context: Context
    ) -> ip_pb.ListIpAllocationEventsResponse:
        return await self._service.list_events(request)


class MigrationServicer(migration_pb2_grpc.MigrationServiceServicer):
    def __init__(self, service: MigrationService):
        self._service = service

    async def GetMigrationConfig(
        self, request: mig_pb.GetMigrationConfigRequest, context: Context
    ) -> mig_pb.MigrationConfig:
        return await self._service.get_config(request)

    async def UpdateMigrationConfig(
        self, request: mig_pb.UpdateMigrationConfigRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.update_config(request)

    async def GetMigrationPolicy(
        self, request: mig_pb.GetMigrationPolicyRequest, context: Context
    ) -> mig_pb.MigrationPolicy:
        return await self._service.get_policy(request)

    async def ListMigrationPolicies(
        self, request: mig_pb.ListMigrationPoliciesRequest, context: Context
    ) -> mig_pb.ListMigrationPoliciesResponse:
        return await self._service.list_policies(request)

    async def CreateMigrationPolicy(
        self, request: mig_pb.CreateMigrationPolicyRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.create_policy(request)

    async def UpdateMigrationPolicy(
        self, request: mig_pb.UpdateMigrationPolicyRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.update_policy(request)

    async def DeleteMigrationPolicy(
        self, request: mig_pb.DeleteMigrationPolicyRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.delete_policy(request)

    async def ResolveMigrationPolicy(
        self, request: mig_pb.ResolveMigrationPolicyRequest, context: Context
    ) -> mig_pb.MigrationPolicyResolution:
        return await self._service.resolve(request)

    async def ResolveVirtualMachineMigrationPolicy(
        self, request: mig_pb.ResolveVirtualMachineMigrationPolicyRequest, context: Context
    ) -> mig_pb.MigrationPolicyResolution:
        return await self._service.resolve_vm(request)

    async def MigrateVirtualMachine(
        self, request: mig_pb.MigrateVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.migrate(request)

    async def GetMigration(self, request: mig_pb.GetMigrationRequest, context: Context) -> mig_pb.Migration:
        return await self._service.get_migration(request)

    async def ListMigrations(
        self, request: mig_pb.ListMigrationsRequest, context: Context
    ) -> mig_pb.ListMigrationsResponse:
        return await self._service.list_migrations(request)

    async def CancelMigration(
        self, request: mig_pb.CancelMigrationRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.cancel_migration(request)

    async def EvacuateNode(self, request: mig_pb.EvacuateNodeRequest, context: Context) -> operations_pb2.Operation:
        return await self._service.evacuate_node(request)


class SecurityServicer(security_pb2_grpc.SecurityServiceServicer):
    def __init__(self, service: SecurityService):
        self._service = service

    async def GetCallerIdentity(self, request: sec_pb.GetCallerIdentityRequest, context: Context) -> sec_pb.Principal:
        return await self._service.caller_identity()

    async def GetPrincipal(self, request: sec_pb.GetPrincipalRequest, context: Context) -> sec_pb.Principal:
        return await self._service.get_principal(request)

    async def ListPrincipals(
        self, request: sec_pb.ListPrincipalsRequest, context: Context
    ) -> sec_pb.ListPrincipalsResponse:
        return await self._service.list_principals(request)

    async def CreatePrincipal(self, request: sec_pb.CreatePrincipalRequest, context: Context) -> sec_pb.Principal:
        return await self._service.create_principal(request)

    async def UpdatePrincipal(self, request: sec_pb.UpdatePrincipalRequest, context: Context) -> sec_pb.Principal:
        return await self._service.update_principal(request)

    async def DeletePrincipal(self, request: sec_pb.DeletePrincipalRequest, context: Context) -> empty_pb2.Empty:
        return await self._service.delete_principal(request)

    async def CreateToken(self, request: sec_pb.CreateTokenRequest, context: Context) -> sec_pb.CreateTokenResponse:
        return await self._service.create_token(request)

    async def ListTokens(self, request: sec_pb.ListTokensRequest, context: Context) -> sec_pb.ListTokensResponse:
        return await self._service.list_tokens(request)

    async def RevokeToken(self, request: sec_pb.RevokeTokenRequest, context: Context) -> sec_pb.Token:
        return await self._service.revoke_token(request)

    async def ListAuditRecords(
        self, request: sec_pb.ListAuditRecordsRequest, context: Context
    ) -> sec_pb.ListAuditRecordsResponse:
        return await self._service.list_audit_records(request)


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    def __init__(self, service: StorageService):
        self._service = service

    async def GetStorageProfile(
        self, request: st_pb.GetStorageProfileRequest, context: Context
    ) -> st_pb.StorageProfile:
        return await self._service.get_profile(request)

    async def ListStorageProfiles(
        self, request: st_pb.ListStorageProfilesRequest, context: Context
    ) -> st_pb.ListStorageProfilesResponse:
        return await self._service.list_profiles(request)

    async def UpdateStorageProfile(
        self, request: st_pb.UpdateStorageProfileRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.update_profile(request)

    async def ListStorageCapabilities(
        self, request: st_pb.ListStorageCapabilitiesRequest, context: Context
    ) -> st_pb.ListStorageCapabilitiesResponse:
        return await self._service.list_capabilities(request)

    async def GetStorageClass(self, request: st_pb.GetStorageClassRequest, context: Context) -> st_pb.StorageClass:
        return await self._service.get_class(request)

    async def ListStorageClasses(
        self, request: st_pb.ListStorageClassesRequest, context: Context
    ) -> st_pb.ListStorageClassesResponse:
        return await self._service.list_classes(request)


class BackupServicer(backup_pb2_grpc.BackupServiceServicer):
    def __init__(self, service: BackupService):
        self._service = service

    async def GetVirtualMachineBackup(
        self, request: bk_pb.GetVirtualMachineBackupRequest, context: Context
    ) -> bk_pb.VirtualMachineBackup:
        return await self._service.get_backup(request)

    async def ListVirtualMachineBackups(
        self, request: bk_pb.ListVirtualMachineBackupsRequest, context: Context
    ) -> bk_pb.ListVirtualMachineBackupsResponse:
        return await self._service.list_backups(request)

    async def CreateVirtualMachineBackup(
        self, request: bk_pb.CreateVirtualMachineBackupRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.create_backup(request)

    async def DeleteVirtualMachineBackup(
        self, request: bk_pb.DeleteVirtualMachineBackupRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.delete_backup(request)

    async def GetVirtualMachineImage(
        self, request: bk_pb.GetVirtualMachineImageRequest, context: Context
    ) -> bk_pb.VirtualMachineImage:
        return await self._service.get_image(request)

    async def ListVirtualMachineImages(
        self, request: bk_pb.ListVirtualMachineImagesRequest, context: Context
    ) -> bk_pb.ListVirtualMachineImagesResponse:
        return await self._service.list_images(request)

    async def CreateVirtualMachineImage(
        self, request: bk_pb.CreateVirtualMachineImageRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.create_image(request)

    async def DeleteVirtualMachineImage(
        self, request: bk_pb.DeleteVirtualMachineImageRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.delete_image(request)
