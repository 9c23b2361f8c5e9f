import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from harrow.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IpPool(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "delete_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[IpPool.State]
        ACTIVE: _ClassVar[IpPool.State]
        DELETING: _ClassVar[IpPool.State]
    STATE_UNSPECIFIED: IpPool.State
    ACTIVE: IpPool.State
    DELETING: IpPool.State
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
    state: IpPool.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: IpPoolSpec
    status: IpPoolStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[IpPool.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[IpPoolSpec, _Mapping]] = ..., status: _Optional[_Union[IpPoolStatus, _Mapping]] = ...) -> None: ...

class IpPoolSpec(_message.Message):
    __slots__ = ("description", "ranges", "selector")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    description: str
    ranges: _containers.RepeatedCompositeFieldContainer[IpRange]
    selector: IpPoolSelector
    def __init__(self, description: _Optional[str] = ..., ranges: _Optional[_Iterable[_Union[IpRange, _Mapping]]] = ..., selector: _Optional[_Union[IpPoolSelector, _Mapping]] = ...) -> None: ...

class IpRange(_message.Message):
    __slots__ = ("subnet", "range_start", "range_end", "gateway")
    SUBNET_FIELD_NUMBER: _ClassVar[int]
    RANGE_START_FIELD_NUMBER: _ClassVar[int]
    RANGE_END_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    subnet: str
    range_start: str
    range_end: str
    gateway: str
    def __init__(self, subnet: _Optional[str] = ..., range_start: _Optional[str] = ..., range_end: _Optional[str] = ..., gateway: _Optional[str] = ...) -> None: ...

class IpPoolSelector(_message.Message):
    __slots__ = ("priority", "network", "scopes")
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    priority: int
    network: str
    scopes: _containers.RepeatedCompositeFieldContainer[IpPoolScope]
    def __init__(self, priority: _Optional[int] = ..., network: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[IpPoolScope, _Mapping]]] = ...) -> None: ...

class IpPoolScope(_message.Message):
    __slots__ = ("project", "namespace", "guest_cluster")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    GUEST_CLUSTER_FIELD_NUMBER: _ClassVar[int]
    project: str
    namespace: str
    guest_cluster: str
    def __init__(self, project: _Optional[str] = ..., namespace: _Optional[str] = ..., guest_cluster: _Optional[str] = ...) -> None: ...

class IpPoolStatus(_message.Message):
    __slots__ = ("total", "available", "used", "last_allocated")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    LAST_ALLOCATED_FIELD_NUMBER: _ClassVar[int]
    total: str
    available: str
    used: int
    last_allocated: str
    def __init__(self, total: _Optional[str] = ..., available: _Optional[str] = ..., used: _Optional[int] = ..., last_allocated: _Optional[str] = ...) -> None: ...

class IpAllocation(_message.Message):
    __slots__ = ("name", "address", "owner", "prefix_length", "gateway", "allocate_time", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    owner: str
    prefix_length: int
    gateway: str
    allocate_time: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., owner: _Optional[str] = ..., prefix_length: _Optional[int] = ..., gateway: _Optional[str] = ..., allocate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class IpAllocationEvent(_message.Message):
    __slots__ = ("action", "address", "owner", "time", "request_id", "actor", "sequence")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    action: str
    address: str
    owner: str
    time: _timestamp_pb2.Timestamp
    request_id: str
    actor: str
    sequence: int
    def __init__(self, action: _Optional[str] = ..., address: _Optional[str] = ..., owner: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., actor: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class GetIpPoolRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListIpPoolsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIpPoolsResponse(_message.Message):
    __slots__ = ("ip_pools", "next_page_token")
    IP_POOLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ip_pools: _containers.RepeatedCompositeFieldContainer[IpPool]
    next_page_token: str
    def __init__(self, ip_pools: _Optional[_Iterable[_Union[IpPool, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateIpPoolRequest(_message.Message):
    __slots__ = ("parent", "ip_pool_id", "ip_pool", "request_id", "validate_only")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    IP_POOL_ID_FIELD_NUMBER: _ClassVar[int]
    IP_POOL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    ip_pool_id: str
    ip_pool: IpPool
    request_id: str
    validate_only: bool
    def __init__(self, parent: _Optional[str] = ..., ip_pool_id: _Optional[str] = ..., ip_pool: _Optional[_Union[IpPool, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class UpdateIpPoolRequest(_message.Message):
    __slots__ = ("ip_pool", "update_mask", "allow_missing", "validate_only", "request_id")
    IP_POOL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ip_pool: IpPool
    update_mask: _field_mask_pb2.FieldMask
    allow_missing: bool
    validate_only: bool
    request_id: str
    def __init__(self, ip_pool: _Optional[_Union[IpPool, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., allow_missing: _Optional[bool] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteIpPoolRequest(_message.Message):
    __slots__ = ("name", "etag", "allow_missing", "force", "validate_only", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    allow_missing: bool
    force: bool
    validate_only: bool
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., allow_missing: _Optional[bool] = ..., force: _Optional[bool] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class AllocateIpAddressRequest(_message.Message):
    __slots__ = ("pool", "owner", "address", "request_id")
    POOL_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    pool: str
    owner: str
    address: str
    request_id: str
    def __init__(self, pool: _Optional[str] = ..., owner: _Optional[str] = ..., address: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SelectAndAllocateIpAddressRequest(_message.Message):
    __slots__ = ("parent", "owner", "network", "project", "namespace", "guest_cluster", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    GUEST_CLUSTER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    owner: str
    network: str
    project: str
    namespace: str
    guest_cluster: str
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., owner: _Optional[str] = ..., network: _Optional[str] = ..., project: _Optional[str] = ..., namespace: _Optional[str] = ..., guest_cluster: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReleaseIpAddressRequest(_message.Message):
    __slots__ = ("pool", "address", "owner", "request_id")
    POOL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    pool: str
    address: str
    owner: str
    request_id: str
    def __init__(self, pool: _Optional[str] = ..., address: _Optional[str] = ..., owner: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReleaseIpAddressResponse(_message.Message):
    __slots__ = ("released",)
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    released: _containers.RepeatedCompositeFieldContainer[IpAllocation]
    def __init__(self, released: _Optional[_Iterable[_Union[IpAllocation, _Mapping]]] = ...) -> None: ...

class GetIpAllocationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListIpAllocationsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIpAllocationsResponse(_message.Message):
    __slots__ = ("ip_allocations", "next_page_token")
    IP_ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ip_allocations: _containers.RepeatedCompositeFieldContainer[IpAllocation]
    next_page_token: str
    def __init__(self, ip_allocations: _Optional[_Iterable[_Union[IpAllocation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListIpAllocationEventsRequest(_message.Message):
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

class ListIpAllocationEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[IpAllocationEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[IpAllocationEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
