import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from harrow.v1 import common_pb2 as _common_pb2
from harrow.v1 import virtual_machine_pb2 as _virtual_machine_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CloneStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLONE_STRATEGY_UNSPECIFIED: _ClassVar[CloneStrategy]
    COPY: _ClassVar[CloneStrategy]
    SNAPSHOT: _ClassVar[CloneStrategy]
    CSI_CLONE: _ClassVar[CloneStrategy]

class DataImportCronSourceFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_IMPORT_CRON_SOURCE_FORMAT_UNSPECIFIED: _ClassVar[DataImportCronSourceFormat]
    PVC: _ClassVar[DataImportCronSourceFormat]
    VOLUME_SNAPSHOT: _ClassVar[DataImportCronSourceFormat]
CLONE_STRATEGY_UNSPECIFIED: CloneStrategy
COPY: CloneStrategy
SNAPSHOT: CloneStrategy
CSI_CLONE: CloneStrategy
DATA_IMPORT_CRON_SOURCE_FORMAT_UNSPECIFIED: DataImportCronSourceFormat
PVC: DataImportCronSourceFormat
VOLUME_SNAPSHOT: DataImportCronSourceFormat

class ClaimPropertySet(_message.Message):
    __slots__ = ("access_modes", "volume_mode")
    ACCESS_MODES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MODE_FIELD_NUMBER: _ClassVar[int]
    access_modes: _containers.RepeatedScalarFieldContainer[_virtual_machine_pb2.AccessMode]
    volume_mode: _virtual_machine_pb2.VolumeMode
    def __init__(self, access_modes: _Optional[_Iterable[_Union[_virtual_machine_pb2.AccessMode, str]]] = ..., volume_mode: _Optional[_Union[_virtual_machine_pb2.VolumeMode, str]] = ...) -> None: ...

class StorageProfile(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[StorageProfile.State]
        READY: _ClassVar[StorageProfile.State]
        UNRECOGNIZED: _ClassVar[StorageProfile.State]
        PENDING: _ClassVar[StorageProfile.State]
    STATE_UNSPECIFIED: StorageProfile.State
    READY: StorageProfile.State
    UNRECOGNIZED: StorageProfile.State
    PENDING: StorageProfile.State
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
    etag: str
    generation: int
    observed_generation: int
    reconciling: bool
    state: StorageProfile.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: StorageProfileSpec
    status: StorageProfileStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[StorageProfile.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[StorageProfileSpec, _Mapping]] = ..., status: _Optional[_Union[StorageProfileStatus, _Mapping]] = ...) -> None: ...

class StorageProfileSpec(_message.Message):
    __slots__ = ("claim_property_sets", "clone_strategy", "data_import_cron_source_format", "snapshot_class", "filesystem_overhead")
    CLAIM_PROPERTY_SETS_FIELD_NUMBER: _ClassVar[int]
    CLONE_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    DATA_IMPORT_CRON_SOURCE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_CLASS_FIELD_NUMBER: _ClassVar[int]
    FILESYSTEM_OVERHEAD_FIELD_NUMBER: _ClassVar[int]
    claim_property_sets: _containers.RepeatedCompositeFieldContainer[ClaimPropertySet]
    clone_strategy: CloneStrategy
    data_import_cron_source_format: DataImportCronSourceFormat
    snapshot_class: str
    filesystem_overhead: str
    def __init__(self, claim_property_sets: _Optional[_Iterable[_Union[ClaimPropertySet, _Mapping]]] = ..., clone_strategy: _Optional[_Union[CloneStrategy, str]] = ..., data_import_cron_source_format: _Optional[_Union[DataImportCronSourceFormat, str]] = ..., snapshot_class: _Optional[str] = ..., filesystem_overhead: _Optional[str] = ...) -> None: ...

class StorageProfileStatus(_message.Message):
    __slots__ = ("storage_class", "provisioner", "provisioner_key", "claim_property_sets", "claim_property_sets_source", "clone_strategy", "data_import_cron_source_format", "snapshot_class", "filesystem_overhead", "capabilities", "read_write_many", "scratch_space_storage_class", "storage_class_annotations")
    class ClaimPropertySetsSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CLAIM_PROPERTY_SETS_SOURCE_UNSPECIFIED: _ClassVar[StorageProfileStatus.ClaimPropertySetsSource]
        SPEC: _ClassVar[StorageProfileStatus.ClaimPropertySetsSource]
        CDI_DEFAULTS: _ClassVar[StorageProfileStatus.ClaimPropertySetsSource]
        NONE: _ClassVar[StorageProfileStatus.ClaimPropertySetsSource]
    CLAIM_PROPERTY_SETS_SOURCE_UNSPECIFIED: StorageProfileStatus.ClaimPropertySetsSource
    SPEC: StorageProfileStatus.ClaimPropertySetsSource
    CDI_DEFAULTS: StorageProfileStatus.ClaimPropertySetsSource
    NONE: StorageProfileStatus.ClaimPropertySetsSource
    class StorageClassAnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    PROVISIONER_FIELD_NUMBER: _ClassVar[int]
    PROVISIONER_KEY_FIELD_NUMBER: _ClassVar[int]
    CLAIM_PROPERTY_SETS_FIELD_NUMBER: _ClassVar[int]
    CLAIM_PROPERTY_SETS_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CLONE_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    DATA_IMPORT_CRON_SOURCE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_CLASS_FIELD_NUMBER: _ClassVar[int]
    FILESYSTEM_OVERHEAD_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    READ_WRITE_MANY_FIELD_NUMBER: _ClassVar[int]
    SCRATCH_SPACE_STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    storage_class: str
    provisioner: str
    provisioner_key: str
    claim_property_sets: _containers.RepeatedCompositeFieldContainer[ClaimPropertySet]
    claim_property_sets_source: StorageProfileStatus.ClaimPropertySetsSource
    clone_strategy: CloneStrategy
    data_import_cron_source_format: DataImportCronSourceFormat
    snapshot_class: str
    filesystem_overhead: FilesystemOverhead
    capabilities: StorageCapability
    read_write_many: bool
    scratch_space_storage_class: str
    storage_class_annotations: _containers.ScalarMap[str, str]
    def __init__(self, storage_class: _Optional[str] = ..., provisioner: _Optional[str] = ..., provisioner_key: _Optional[str] = ..., claim_property_sets: _Optional[_Iterable[_Union[ClaimPropertySet, _Mapping]]] = ..., claim_property_sets_source: _Optional[_Union[StorageProfileStatus.ClaimPropertySetsSource, str]] = ..., clone_strategy: _Optional[_Union[CloneStrategy, str]] = ..., data_import_cron_source_format: _Optional[_Union[DataImportCronSourceFormat, str]] = ..., snapshot_class: _Optional[str] = ..., filesystem_overhead: _Optional[_Union[FilesystemOverhead, _Mapping]] = ..., capabilities: _Optional[_Union[StorageCapability, _Mapping]] = ..., read_write_many: _Optional[bool] = ..., scratch_space_storage_class: _Optional[str] = ..., storage_class_annotations: _Optional[_Mapping[str, str]] = ...) -> None: ...

class FilesystemOverhead(_message.Message):
    __slots__ = ("effective", "cdi_default", "cdi_version", "source")
    EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_FIELD_NUMBER: _ClassVar[int]
    CDI_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    CDI_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    effective: str
    cdi_default: str
    cdi_version: str
    source: str
    def __init__(self, effective: _Optional[str] = ..., cdi_default: _Optional[str] = ..., cdi_version: _Optional[str] = ..., source: _Optional[str] = ..., **kwargs) -> None: ...

class Capability(_message.Message):
    __slots__ = ("supported", "source", "note")
    SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    supported: bool
    source: str
    note: str
    def __init__(self, supported: _Optional[bool] = ..., source: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class StorageCapability(_message.Message):
    __slots__ = ("driver", "display_name", "provisioners", "vm_image", "root_disk", "data_disk", "export_to_image", "template", "live_migration", "snapshot", "backup", "default_claim_property_sets", "default_claim_property_sets_source")
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVISIONERS_FIELD_NUMBER: _ClassVar[int]
    VM_IMAGE_FIELD_NUMBER: _ClassVar[int]
    ROOT_DISK_FIELD_NUMBER: _ClassVar[int]
    DATA_DISK_FIELD_NUMBER: _ClassVar[int]
    EXPORT_TO_IMAGE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    LIVE_MIGRATION_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    BACKUP_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CLAIM_PROPERTY_SETS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CLAIM_PROPERTY_SETS_SOURCE_FIELD_NUMBER: _ClassVar[int]
    driver: str
    display_name: str
    provisioners: _containers.RepeatedScalarFieldContainer[str]
    vm_image: Capability
    root_disk: Capability
    data_disk: Capability
    export_to_image: Capability
    template: Capability
    live_migration: Capability
    snapshot: Capability
    backup: Capability
    default_claim_property_sets: _containers.RepeatedCompositeFieldContainer[ClaimPropertySet]
    default_claim_property_sets_source: str
    def __init__(self, driver: _Optional[str] = ..., display_name: _Optional[str] = ..., provisioners: _Optional[_Iterable[str]] = ..., vm_image: _Optional[_Union[Capability, _Mapping]] = ..., root_disk: _Optional[_Union[Capability, _Mapping]] = ..., data_disk: _Optional[_Union[Capability, _Mapping]] = ..., export_to_image: _Optional[_Union[Capability, _Mapping]] = ..., template: _Optional[_Union[Capability, _Mapping]] = ..., live_migration: _Optional[_Union[Capability, _Mapping]] = ..., snapshot: _Optional[_Union[Capability, _Mapping]] = ..., backup: _Optional[_Union[Capability, _Mapping]] = ..., default_claim_property_sets: _Optional[_Iterable[_Union[ClaimPropertySet, _Mapping]]] = ..., default_claim_property_sets_source: _Optional[str] = ...) -> None: ...

class StorageClass(_message.Message):
    __slots__ = ("name", "provisioner", "parameters", "default_class", "reclaim_policy", "volume_binding_mode", "allow_volume_expansion", "annotations", "create_time", "profile", "capabilities")
    class ParametersEntry(_message.Message):
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
    PROVISIONER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CLASS_FIELD_NUMBER: _ClassVar[int]
    RECLAIM_POLICY_FIELD_NUMBER: _ClassVar[int]
    VOLUME_BINDING_MODE_FIELD_NUMBER: _ClassVar[int]
    ALLOW_VOLUME_EXPANSION_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    provisioner: str
    parameters: _containers.ScalarMap[str, str]
    default_class: bool
    reclaim_policy: str
    volume_binding_mode: str
    allow_volume_expansion: bool
    annotations: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    profile: StorageProfile
    capabilities: StorageCapability
    def __init__(self, name: _Optional[str] = ..., provisioner: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., default_class: _Optional[bool] = ..., reclaim_policy: _Optional[str] = ..., volume_binding_mode: _Optional[str] = ..., allow_volume_expansion: _Optional[bool] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., profile: _Optional[_Union[StorageProfile, _Mapping]] = ..., capabilities: _Optional[_Union[StorageCapability, _Mapping]] = ...) -> None: ...

class GetStorageProfileRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListStorageProfilesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStorageProfilesResponse(_message.Message):
    __slots__ = ("storage_profiles", "next_page_token")
    STORAGE_PROFILES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    storage_profiles: _containers.RepeatedCompositeFieldContainer[StorageProfile]
    next_page_token: str
    def __init__(self, storage_profiles: _Optional[_Iterable[_Union[StorageProfile, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateStorageProfileRequest(_message.Message):
    __slots__ = ("storage_profile", "update_mask", "validate_only", "request_id")
    STORAGE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    storage_profile: StorageProfile
    update_mask: _field_mask_pb2.FieldMask
    validate_only: bool
    request_id: str
    def __init__(self, storage_profile: _Optional[_Union[StorageProfile, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListStorageCapabilitiesRequest(_message.Message):
    __slots__ = ("provisioner", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROVISIONER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    provisioner: str
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, provisioner: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListStorageCapabilitiesResponse(_message.Message):
    __slots__ = ("capabilities",)
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    capabilities: _containers.RepeatedCompositeFieldContainer[StorageCapability]
    def __init__(self, capabilities: _Optional[_Iterable[_Union[StorageCapability, _Mapping]]] = ...) -> None: ...

class GetStorageClassRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListStorageClassesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStorageClassesResponse(_message.Message):
    __slots__ = ("storage_classes", "next_page_token")
    STORAGE_CLASSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    storage_classes: _containers.RepeatedCompositeFieldContainer[StorageClass]
    next_page_token: str
    def __init__(self, storage_classes: _Optional[_Iterable[_Union[StorageClass, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
