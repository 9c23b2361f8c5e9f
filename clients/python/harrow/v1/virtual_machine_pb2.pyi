import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from harrow.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccessMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_MODE_UNSPECIFIED: _ClassVar[AccessMode]
    READ_WRITE_ONCE: _ClassVar[AccessMode]
    READ_ONLY_MANY: _ClassVar[AccessMode]
    READ_WRITE_MANY: _ClassVar[AccessMode]
    READ_WRITE_ONCE_POD: _ClassVar[AccessMode]

class VolumeMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOLUME_MODE_UNSPECIFIED: _ClassVar[VolumeMode]
    FILESYSTEM: _ClassVar[VolumeMode]
    BLOCK: _ClassVar[VolumeMode]
ACCESS_MODE_UNSPECIFIED: AccessMode
READ_WRITE_ONCE: AccessMode
READ_ONLY_MANY: AccessMode
READ_WRITE_MANY: AccessMode
READ_WRITE_ONCE_POD: AccessMode
VOLUME_MODE_UNSPECIFIED: VolumeMode
FILESYSTEM: VolumeMode
BLOCK: VolumeMode

class VirtualMachine(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "delete_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[VirtualMachine.State]
        STOPPED: _ClassVar[VirtualMachine.State]
        PROVISIONING: _ClassVar[VirtualMachine.State]
        STARTING: _ClassVar[VirtualMachine.State]
        RUNNING: _ClassVar[VirtualMachine.State]
        PAUSED: _ClassVar[VirtualMachine.State]
        STOPPING: _ClassVar[VirtualMachine.State]
        TERMINATING: _ClassVar[VirtualMachine.State]
        CRASH_LOOP_BACK_OFF: _ClassVar[VirtualMachine.State]
        MIGRATING: _ClassVar[VirtualMachine.State]
        UNKNOWN: _ClassVar[VirtualMachine.State]
        ERROR_UNSCHEDULABLE: _ClassVar[VirtualMachine.State]
        ERR_IMAGE_PULL: _ClassVar[VirtualMachine.State]
        IMAGE_PULL_BACK_OFF: _ClassVar[VirtualMachine.State]
        ERROR_PVC_NOT_FOUND: _ClassVar[VirtualMachine.State]
        DATA_VOLUME_ERROR: _ClassVar[VirtualMachine.State]
        WAITING_FOR_VOLUME_BINDING: _ClassVar[VirtualMachine.State]
        WAITING_FOR_RECEIVER: _ClassVar[VirtualMachine.State]
    STATE_UNSPECIFIED: VirtualMachine.State
    STOPPED: VirtualMachine.State
    PROVISIONING: VirtualMachine.State
    STARTING: VirtualMachine.State
    RUNNING: VirtualMachine.State
    PAUSED: VirtualMachine.State
    STOPPING: VirtualMachine.State
    TERMINATING: VirtualMachine.State
    CRASH_LOOP_BACK_OFF: VirtualMachine.State
    MIGRATING: VirtualMachine.State
    UNKNOWN: VirtualMachine.State
    ERROR_UNSCHEDULABLE: VirtualMachine.State
    ERR_IMAGE_PULL: VirtualMachine.State
    IMAGE_PULL_BACK_OFF: VirtualMachine.State
    ERROR_PVC_NOT_FOUND: VirtualMachine.State
    DATA_VOLUME_ERROR: VirtualMachine.State
    WAITING_FOR_VOLUME_BINDING: VirtualMachine.State
    WAITING_FOR_RECEIVER: VirtualMachine.State
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    RECONCILING_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    uid: str
    labels: _containers.ScalarMap[str, str]
    annotations: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    etag: str
    generation: int
    observed_generation: int
    reconciling: bool
    state: VirtualMachine.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: VirtualMachineSpec
    status: VirtualMachineStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[VirtualMachine.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[VirtualMachineSpec, _Mapping]] = ..., status: _Optional[_Union[VirtualMachineStatus, _Mapping]] = ...) -> None: ...

class VirtualMachineSpec(_message.Message):
    __slots__ = ("description", "cpu", "memory", "run_strategy", "disks", "interfaces", "cloud_init", "placement", "eviction_strategy", "reserved_memory")
    class RunStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RUN_STRATEGY_UNSPECIFIED: _ClassVar[VirtualMachineSpec.RunStrategy]
        ALWAYS: _ClassVar[VirtualMachineSpec.RunStrategy]
        HALTED: _ClassVar[VirtualMachineSpec.RunStrategy]
        MANUAL: _ClassVar[VirtualMachineSpec.RunStrategy]
        RERUN_ON_FAILURE: _ClassVar[VirtualMachineSpec.RunStrategy]
    RUN_STRATEGY_UNSPECIFIED: VirtualMachineSpec.RunStrategy
    ALWAYS: VirtualMachineSpec.RunStrategy
    HALTED: VirtualMachineSpec.RunStrategy
    MANUAL: VirtualMachineSpec.RunStrategy
    RERUN_ON_FAILURE: VirtualMachineSpec.RunStrategy
    class EvictionStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        EVICTION_STRATEGY_UNSPECIFIED: _ClassVar[VirtualMachineSpec.EvictionStrategy]
        NONE: _ClassVar[VirtualMachineSpec.EvictionStrategy]
        LIVE_MIGRATE: _ClassVar[VirtualMachineSpec.EvictionStrategy]
        LIVE_MIGRATE_IF_POSSIBLE: _ClassVar[VirtualMachineSpec.EvictionStrategy]
        EXTERNAL: _ClassVar[VirtualMachineSpec.EvictionStrategy]
    EVICTION_STRATEGY_UNSPECIFIED: VirtualMachineSpec.EvictionStrategy
    NONE: VirtualMachineSpec.EvictionStrategy
    LIVE_MIGRATE: VirtualMachineSpec.EvictionStrategy
    LIVE_MIGRATE_IF_POSSIBLE: VirtualMachineSpec.EvictionStrategy
    EXTERNAL: VirtualMachineSpec.EvictionStrategy
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CPU_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    RUN_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    CLOUD_INIT_FIELD_NUMBER: _ClassVar[int]
    PLACEMENT_FIELD_NUMBER: _ClassVar[int]
    EVICTION_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    RESERVED_MEMORY_FIELD_NUMBER: _ClassVar[int]
    description: str
    cpu: CpuTopology
    memory: str
    run_strategy: VirtualMachineSpec.RunStrategy
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    interfaces: _containers.RepeatedCompositeFieldContainer[NetworkInterface]
    cloud_init: CloudInit
    placement: Placement
    eviction_strategy: VirtualMachineSpec.EvictionStrategy
    reserved_memory: str
    def __init__(self, description: _Optional[str] = ..., cpu: _Optional[_Union[CpuTopology, _Mapping]] = ..., memory: _Optional[str] = ..., run_strategy: _Optional[_Union[VirtualMachineSpec.RunStrategy, str]] = ..., disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[NetworkInterface, _Mapping]]] = ..., cloud_init: _Optional[_Union[CloudInit, _Mapping]] = ..., placement: _Optional[_Union[Placement, _Mapping]] = ..., eviction_strategy: _Optional[_Union[VirtualMachineSpec.EvictionStrategy, str]] = ..., reserved_memory: _Optional[str] = ...) -> None: ...

class CpuTopology(_message.Message):
    __slots__ = ("cores", "sockets", "threads")
    CORES_FIELD_NUMBER: _ClassVar[int]
    SOCKETS_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    cores: int
    sockets: int
    threads: int
    def __init__(self, cores: _Optional[int] = ..., sockets: _Optional[int] = ..., threads: _Optional[int] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("name", "bus", "boot_order", "image", "new_volume", "existing_claim")
    class Bus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        BUS_UNSPECIFIED: _ClassVar[Disk.Bus]
        VIRTIO: _ClassVar[Disk.Bus]
        SATA: _ClassVar[Disk.Bus]
        SCSI: _ClassVar[Disk.Bus]
        USB: _ClassVar[Disk.Bus]
    BUS_UNSPECIFIED: Disk.Bus
    VIRTIO: Disk.Bus
    SATA: Disk.Bus
    SCSI: Disk.Bus
    USB: Disk.Bus
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUS_FIELD_NUMBER: _ClassVar[int]
    BOOT_ORDER_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    NEW_VOLUME_FIELD_NUMBER: _ClassVar[int]
    EXISTING_CLAIM_FIELD_NUMBER: _ClassVar[int]
    name: str
    bus: Disk.Bus
    boot_order: int
    image: ImageSource
    new_volume: NewVolume
    existing_claim: ExistingClaim
    def __init__(self, name: _Optional[str] = ..., bus: _Optional[_Union[Disk.Bus, str]] = ..., boot_order: _Optional[int] = ..., image: _Optional[_Union[ImageSource, _Mapping]] = ..., new_volume: _Optional[_Union[NewVolume, _Mapping]] = ..., existing_claim: _Optional[_Union[ExistingClaim, _Mapping]] = ...) -> None: ...

class ImageSource(_message.Message):
    __slots__ = ("url", "size", "storage_class")
    URL_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    url: str
    size: str
    storage_class: str
    def __init__(self, url: _Optional[str] = ..., size: _Optional[str] = ..., storage_class: _Optional[str] = ...) -> None: ...

class NewVolume(_message.Message):
    __slots__ = ("size", "storage_class", "access_modes", "volume_mode")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_MODES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MODE_FIELD_NUMBER: _ClassVar[int]
    size: str
    storage_class: str
    access_modes: _containers.RepeatedScalarFieldContainer[AccessMode]
    volume_mode: VolumeMode
    def __init__(self, size: _Optional[str] = ..., storage_class: _Optional[str] = ..., access_modes: _Optional[_Iterable[_Union[AccessMode, str]]] = ..., volume_mode: _Optional[_Union[VolumeMode, str]] = ...) -> None: ...

class ExistingClaim(_message.Message):
    __slots__ = ("claim_name",)
    CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    claim_name: str
    def __init__(self, claim_name: _Optional[str] = ...) -> None: ...

class NetworkInterface(_message.Message):
    __slots__ = ("name", "network", "model", "mac_address", "boot_order", "ip_pool")
    class Model(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODEL_UNSPECIFIED: _ClassVar[NetworkInterface.Model]
        VIRTIO: _ClassVar[NetworkInterface.Model]
        E1000: _ClassVar[NetworkInterface.Model]
        E1000E: _ClassVar[NetworkInterface.Model]
        RTL8139: _ClassVar[NetworkInterface.Model]
    MODEL_UNSPECIFIED: NetworkInterface.Model
    VIRTIO: NetworkInterface.Model
    E1000: NetworkInterface.Model
    E1000E: NetworkInterface.Model
    RTL8139: NetworkInterface.Model
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BOOT_ORDER_FIELD_NUMBER: _ClassVar[int]
    IP_POOL_FIELD_NUMBER: _ClassVar[int]
    name: str
    network: str
    model: NetworkInterface.Model
    mac_address: str
    boot_order: int
    ip_pool: str
    def __init__(self, name: _Optional[str] = ..., network: _Optional[str] = ..., model: _Optional[_Union[NetworkInterface.Model, str]] = ..., mac_address: _Optional[str] = ..., boot_order: _Optional[int] = ..., ip_pool: _Optional[str] = ...) -> None: ...

class CloudInit(_message.Message):
    __slots__ = ("user_data", "network_data")
    USER_DATA_FIELD_NUMBER: _ClassVar[int]
    NETWORK_DATA_FIELD_NUMBER: _ClassVar[int]
    user_data: str
    network_data: str
    def __init__(self, user_data: _Optional[str] = ..., network_data: _Optional[str] = ...) -> None: ...

class Placement(_message.Message):
    __slots__ = ("node_selector", "tolerations", "affinity")
    class NodeSelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NODE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    TOLERATIONS_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    node_selector: _containers.ScalarMap[str, str]
    tolerations: _containers.RepeatedCompositeFieldContainer[Toleration]
    affinity: _struct_pb2.Struct
    def __init__(self, node_selector: _Optional[_Mapping[str, str]] = ..., tolerations: _Optional[_Iterable[_Union[Toleration, _Mapping]]] = ..., affinity: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Toleration(_message.Message):
    __slots__ = ("key", "operator", "value", "effect", "toleration_seconds")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    TOLERATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    key: str
    operator: str
    value: str
    effect: str
    toleration_seconds: int
    def __init__(self, key: _Optional[str] = ..., operator: _Optional[str] = ..., value: _Optional[str] = ..., effect: _Optional[str] = ..., toleration_seconds: _Optional[int] = ...) -> None: ...

class VirtualMachineStatus(_message.Message):
    __slots__ = ("node", "ip_addresses", "allowed_actions", "interfaces", "disks", "live_migration_blockers")
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTION_UNSPECIFIED: _ClassVar[VirtualMachineStatus.Action]
        START: _ClassVar[VirtualMachineStatus.Action]
        STOP: _ClassVar[VirtualMachineStatus.Action]
        RESTART: _ClassVar[VirtualMachineStatus.Action]
        PAUSE: _ClassVar[VirtualMachineStatus.Action]
        UNPAUSE: _ClassVar[VirtualMachineStatus.Action]
    ACTION_UNSPECIFIED: VirtualMachineStatus.Action
    START: VirtualMachineStatus.Action
    STOP: VirtualMachineStatus.Action
    RESTART: VirtualMachineStatus.Action
    PAUSE: VirtualMachineStatus.Action
    UNPAUSE: VirtualMachineStatus.Action
    NODE_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    LIVE_MIGRATION_BLOCKERS_FIELD_NUMBER: _ClassVar[int]
    node: str
    ip_addresses: _containers.RepeatedScalarFieldContainer[str]
    allowed_actions: _containers.RepeatedScalarFieldContainer[VirtualMachineStatus.Action]
    interfaces: _containers.RepeatedCompositeFieldContainer[InterfaceStatus]
    disks: _containers.RepeatedCompositeFieldContainer[DiskStatus]
    live_migration_blockers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node: _Optional[str] = ..., ip_addresses: _Optional[_Iterable[str]] = ..., allowed_actions: _Optional[_Iterable[_Union[VirtualMachineStatus.Action, str]]] = ..., interfaces: _Optional[_Iterable[_Union[InterfaceStatus, _Mapping]]] = ..., disks: _Optional[_Iterable[_Union[DiskStatus, _Mapping]]] = ..., live_migration_blockers: _Optional[_Iterable[str]] = ...) -> None: ...

class DiskStatus(_message.Message):
    __slots__ = ("name", "storage_class", "driver", "access_modes", "volume_mode", "requested_bytes", "pvc_bytes", "filesystem_overhead", "live_migratable", "live_migration_blocker")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_MODES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MODE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    PVC_BYTES_FIELD_NUMBER: _ClassVar[int]
    FILESYSTEM_OVERHEAD_FIELD_NUMBER: _ClassVar[int]
    LIVE_MIGRATABLE_FIELD_NUMBER: _ClassVar[int]
    LIVE_MIGRATION_BLOCKER_FIELD_NUMBER: _ClassVar[int]
    name: str
    storage_class: str
    driver: str
    access_modes: _containers.RepeatedScalarFieldContainer[AccessMode]
    volume_mode: VolumeMode
    requested_bytes: int
    pvc_bytes: int
    filesystem_overhead: str
    live_migratable: bool
    live_migration_blocker: str
    def __init__(self, name: _Optional[str] = ..., storage_class: _Optional[str] = ..., driver: _Optional[str] = ..., access_modes: _Optional[_Iterable[_Union[AccessMode, str]]] = ..., volume_mode: _Optional[_Union[VolumeMode, str]] = ..., requested_bytes: _Optional[int] = ..., pvc_bytes: _Optional[int] = ..., filesystem_overhead: _Optional[str] = ..., live_migratable: _Optional[bool] = ..., live_migration_blocker: _Optional[str] = ...) -> None: ...

class InterfaceStatus(_message.Message):
    __slots__ = ("name", "ip_pool", "address", "prefix_length", "gateway", "mac_address")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IP_POOL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    ip_pool: str
    address: str
    prefix_length: int
    gateway: str
    mac_address: str
    def __init__(self, name: _Optional[str] = ..., ip_pool: _Optional[str] = ..., address: _Optional[str] = ..., prefix_length: _Optional[int] = ..., gateway: _Optional[str] = ..., mac_address: _Optional[str] = ...) -> None: ...

class GetVirtualMachineRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListVirtualMachinesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter", "order_by")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    order_by: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListVirtualMachinesResponse(_message.Message):
    __slots__ = ("virtual_machines", "next_page_token", "revision")
    VIRTUAL_MACHINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    virtual_machines: _containers.RepeatedCompositeFieldContainer[VirtualMachine]
    next_page_token: str
    revision: int
    def __init__(self, virtual_machines: _Optional[_Iterable[_Union[VirtualMachine, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class CreateVirtualMachineRequest(_message.Message):
    __slots__ = ("parent", "virtual_machine_id", "virtual_machine", "request_id", "validate_only")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_ID_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    virtual_machine_id: str
    virtual_machine: VirtualMachine
    request_id: str
    validate_only: bool
    def __init__(self, parent: _Optional[str] = ..., virtual_machine_id: _Optional[str] = ..., virtual_machine: _Optional[_Union[VirtualMachine, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class UpdateVirtualMachineRequest(_message.Message):
    __slots__ = ("virtual_machine", "update_mask", "allow_missing", "validate_only", "request_id")
    VIRTUAL_MACHINE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    virtual_machine: VirtualMachine
    update_mask: _field_mask_pb2.FieldMask
    allow_missing: bool
    validate_only: bool
    request_id: str
    def __init__(self, virtual_machine: _Optional[_Union[VirtualMachine, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., allow_missing: _Optional[bool] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "etag", "allow_missing", "validate_only", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    allow_missing: bool
    validate_only: bool
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., allow_missing: _Optional[bool] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class AdoptVirtualMachineRequest(_message.Message):
    __slots__ = ("parent", "virtual_machine_id", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    virtual_machine_id: str
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., virtual_machine_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class StartVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class StopVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RestartVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class PauseVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class UnpauseVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class WatchVirtualMachinesRequest(_message.Message):
    __slots__ = ("parent", "filter", "since_revision")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SINCE_REVISION_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filter: str
    since_revision: int
    def __init__(self, parent: _Optional[str] = ..., filter: _Optional[str] = ..., since_revision: _Optional[int] = ...) -> None: ...

class WatchVirtualMachinesResponse(_message.Message):
    __slots__ = ("type", "revision", "virtual_machine")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.WatchEventType
    revision: int
    virtual_machine: VirtualMachine
    def __init__(self, type: _Optional[_Union[_common_pb2.WatchEventType, str]] = ..., revision: _Optional[int] = ..., virtual_machine: _Optional[_Union[VirtualMachine, _Mapping]] = ...) -> None: ...
