import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from harrow.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClusterObjectReference(_message.Message):
    __slots__ = ("api_version", "kind", "namespace", "name")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    namespace: str
    name: str
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class BackupVolume(_message.Message):
    __slots__ = ("disk", "storage_class", "driver", "claim_name")
    DISK_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    disk: str
    storage_class: str
    driver: str
    claim_name: str
    def __init__(self, disk: _Optional[str] = ..., storage_class: _Optional[str] = ..., driver: _Optional[str] = ..., claim_name: _Optional[str] = ...) -> None: ...

class VirtualMachineBackup(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "delete_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[VirtualMachineBackup.State]
        CREATING: _ClassVar[VirtualMachineBackup.State]
        READY: _ClassVar[VirtualMachineBackup.State]
        FAILED: _ClassVar[VirtualMachineBackup.State]
        DELETING: _ClassVar[VirtualMachineBackup.State]
    STATE_UNSPECIFIED: VirtualMachineBackup.State
    CREATING: VirtualMachineBackup.State
    READY: VirtualMachineBackup.State
    FAILED: VirtualMachineBackup.State
    DELETING: VirtualMachineBackup.State
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
    state: VirtualMachineBackup.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: VirtualMachineBackupSpec
    status: VirtualMachineBackupStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[VirtualMachineBackup.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[VirtualMachineBackupSpec, _Mapping]] = ..., status: _Optional[_Union[VirtualMachineBackupStatus, _Mapping]] = ...) -> None: ...

class VirtualMachineBackupSpec(_message.Message):
    __slots__ = ("virtual_machine", "type")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TYPE_UNSPECIFIED: _ClassVar[VirtualMachineBackupSpec.Type]
        SNAPSHOT: _ClassVar[VirtualMachineBackupSpec.Type]
        BACKUP: _ClassVar[VirtualMachineBackupSpec.Type]
    TYPE_UNSPECIFIED: VirtualMachineBackupSpec.Type
    SNAPSHOT: VirtualMachineBackupSpec.Type
    BACKUP: VirtualMachineBackupSpec.Type
    VIRTUAL_MACHINE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    virtual_machine: str
    type: VirtualMachineBackupSpec.Type
    def __init__(self, virtual_machine: _Optional[str] = ..., type: _Optional[_Union[VirtualMachineBackupSpec.Type, str]] = ...) -> None: ...

class VirtualMachineBackupStatus(_message.Message):
    __slots__ = ("ready_to_use", "progress", "error", "volumes", "cluster_object", "creation_time")
    READY_TO_USE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_OBJECT_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIME_FIELD_NUMBER: _ClassVar[int]
    ready_to_use: bool
    progress: int
    error: str
    volumes: _containers.RepeatedCompositeFieldContainer[BackupVolume]
    cluster_object: ClusterObjectReference
    creation_time: _timestamp_pb2.Timestamp
    def __init__(self, ready_to_use: _Optional[bool] = ..., progress: _Optional[int] = ..., error: _Optional[str] = ..., volumes: _Optional[_Iterable[_Union[BackupVolume, _Mapping]]] = ..., cluster_object: _Optional[_Union[ClusterObjectReference, _Mapping]] = ..., creation_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VirtualMachineImage(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "delete_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[VirtualMachineImage.State]
        EXPORTING: _ClassVar[VirtualMachineImage.State]
        READY: _ClassVar[VirtualMachineImage.State]
        FAILED: _ClassVar[VirtualMachineImage.State]
        DELETING: _ClassVar[VirtualMachineImage.State]
    STATE_UNSPECIFIED: VirtualMachineImage.State
    EXPORTING: VirtualMachineImage.State
    READY: VirtualMachineImage.State
    FAILED: VirtualMachineImage.State
    DELETING: VirtualMachineImage.State
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
    state: VirtualMachineImage.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: VirtualMachineImageSpec
    status: VirtualMachineImageStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[VirtualMachineImage.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[VirtualMachineImageSpec, _Mapping]] = ..., status: _Optional[_Union[VirtualMachineImageStatus, _Mapping]] = ...) -> None: ...

class VirtualMachineImageSpec(_message.Message):
    __slots__ = ("display_name", "source")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    source: ImageSourceDisk
    def __init__(self, display_name: _Optional[str] = ..., source: _Optional[_Union[ImageSourceDisk, _Mapping]] = ...) -> None: ...

class ImageSourceDisk(_message.Message):
    __slots__ = ("virtual_machine", "disk")
    VIRTUAL_MACHINE_FIELD_NUMBER: _ClassVar[int]
    DISK_FIELD_NUMBER: _ClassVar[int]
    virtual_machine: str
    disk: str
    def __init__(self, virtual_machine: _Optional[str] = ..., disk: _Optional[str] = ...) -> None: ...

class VirtualMachineImageStatus(_message.Message):
    __slots__ = ("progress", "size_bytes", "error", "volume", "cluster_object")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_OBJECT_FIELD_NUMBER: _ClassVar[int]
    progress: int
    size_bytes: int
    error: str
    volume: BackupVolume
    cluster_object: ClusterObjectReference
    def __init__(self, progress: _Optional[int] = ..., size_bytes: _Optional[int] = ..., error: _Optional[str] = ..., volume: _Optional[_Union[BackupVolume, _Mapping]] = ..., cluster_object: _Optional[_Union[ClusterObjectReference, _Mapping]] = ...) -> None: ...

class GetVirtualMachineBackupRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListVirtualMachineBackupsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class ListVirtualMachineBackupsResponse(_message.Message):
    __slots__ = ("virtual_machine_backups", "next_page_token")
    VIRTUAL_MACHINE_BACKUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    virtual_machine_backups: _containers.RepeatedCompositeFieldContainer[VirtualMachineBackup]
    next_page_token: str
    def __init__(self, virtual_machine_backups: _Optional[_Iterable[_Union[VirtualMachineBackup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateVirtualMachineBackupRequest(_message.Message):
    __slots__ = ("parent", "virtual_machine_backup_id", "virtual_machine_backup", "request_id", "validate_only")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_BACKUP_ID_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_BACKUP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    virtual_machine_backup_id: str
    virtual_machine_backup: VirtualMachineBackup
    request_id: str
    validate_only: bool
    def __init__(self, parent: _Optional[str] = ..., virtual_machine_backup_id: _Optional[str] = ..., virtual_machine_backup: _Optional[_Union[VirtualMachineBackup, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class DeleteVirtualMachineBackupRequest(_message.Message):
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

class GetVirtualMachineImageRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListVirtualMachineImagesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class ListVirtualMachineImagesResponse(_message.Message):
    __slots__ = ("virtual_machine_images", "next_page_token")
    VIRTUAL_MACHINE_IMAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    virtual_machine_images: _containers.RepeatedCompositeFieldContainer[VirtualMachineImage]
    next_page_token: str
    def __init__(self, virtual_machine_images: _Optional[_Iterable[_Union[VirtualMachineImage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateVirtualMachineImageRequest(_message.Message):
    __slots__ = ("parent", "virtual_machine_image_id", "virtual_machine_image", "request_id", "validate_only")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_IMAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    virtual_machine_image_id: str
    virtual_machine_image: VirtualMachineImage
    request_id: str
    validate_only: bool
    def __init__(self, parent: _Optional[str] = ..., virtual_machine_image_id: _Optional[str] = ..., virtual_machine_image: _Optional[_Union[VirtualMachineImage, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class DeleteVirtualMachineImageRequest(_message.Message):
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
