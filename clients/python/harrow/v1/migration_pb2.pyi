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

class MigrationSettings(_message.Message):
    __slots__ = ("parallel_migrations_per_cluster", "parallel_outbound_migrations_per_node", "bandwidth_per_migration", "completion_timeout_per_gib", "progress_timeout", "allow_auto_converge", "allow_post_copy", "allow_workload_disruption", "network")
    PARALLEL_MIGRATIONS_PER_CLUSTER_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_OUTBOUND_MIGRATIONS_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    BANDWIDTH_PER_MIGRATION_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TIMEOUT_PER_GIB_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ALLOW_AUTO_CONVERGE_FIELD_NUMBER: _ClassVar[int]
    ALLOW_POST_COPY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_WORKLOAD_DISRUPTION_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    parallel_migrations_per_cluster: int
    parallel_outbound_migrations_per_node: int
    bandwidth_per_migration: str
    completion_timeout_per_gib: int
    progress_timeout: int
    allow_auto_converge: bool
    allow_post_copy: bool
    allow_workload_disruption: bool
    network: str
    def __init__(self, parallel_migrations_per_cluster: _Optional[int] = ..., parallel_outbound_migrations_per_node: _Optional[int] = ..., bandwidth_per_migration: _Optional[str] = ..., completion_timeout_per_gib: _Optional[int] = ..., progress_timeout: _Optional[int] = ..., allow_auto_converge: _Optional[bool] = ..., allow_post_copy: _Optional[bool] = ..., allow_workload_disruption: _Optional[bool] = ..., network: _Optional[str] = ...) -> None: ...

class SettingProvenance(_message.Message):
    __slots__ = ("field", "source", "detail")
    class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SOURCE_UNSPECIFIED: _ClassVar[SettingProvenance.Source]
        POLICY: _ClassVar[SettingProvenance.Source]
        CLUSTER_CONFIG: _ClassVar[SettingProvenance.Source]
        VERSION_DEFAULT: _ClassVar[SettingProvenance.Source]
    SOURCE_UNSPECIFIED: SettingProvenance.Source
    POLICY: SettingProvenance.Source
    CLUSTER_CONFIG: SettingProvenance.Source
    VERSION_DEFAULT: SettingProvenance.Source
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    field: str
    source: SettingProvenance.Source
    detail: str
    def __init__(self, field: _Optional[str] = ..., source: _Optional[_Union[SettingProvenance.Source, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class MigrationConfig(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[MigrationConfig.State]
        ACTIVE: _ClassVar[MigrationConfig.State]
    STATE_UNSPECIFIED: MigrationConfig.State
    ACTIVE: MigrationConfig.State
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
    state: MigrationConfig.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: MigrationSettings
    status: MigrationConfigStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[MigrationConfig.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[MigrationSettings, _Mapping]] = ..., status: _Optional[_Union[MigrationConfigStatus, _Mapping]] = ...) -> None: ...

class MigrationConfigStatus(_message.Message):
    __slots__ = ("effective", "provenance", "kubevirt_version")
    EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    KUBEVIRT_VERSION_FIELD_NUMBER: _ClassVar[int]
    effective: MigrationSettings
    provenance: _containers.RepeatedCompositeFieldContainer[SettingProvenance]
    kubevirt_version: str
    def __init__(self, effective: _Optional[_Union[MigrationSettings, _Mapping]] = ..., provenance: _Optional[_Iterable[_Union[SettingProvenance, _Mapping]]] = ..., kubevirt_version: _Optional[str] = ...) -> None: ...

class MigrationPolicy(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "delete_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[MigrationPolicy.State]
        ACTIVE: _ClassVar[MigrationPolicy.State]
        DELETING: _ClassVar[MigrationPolicy.State]
    STATE_UNSPECIFIED: MigrationPolicy.State
    ACTIVE: MigrationPolicy.State
    DELETING: MigrationPolicy.State
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
    state: MigrationPolicy.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: MigrationPolicySpec
    status: MigrationPolicyStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[MigrationPolicy.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[MigrationPolicySpec, _Mapping]] = ..., status: _Optional[_Union[MigrationPolicyStatus, _Mapping]] = ...) -> None: ...

class MigrationPolicySpec(_message.Message):
    __slots__ = ("description", "allow_auto_converge", "bandwidth_per_migration", "completion_timeout_per_gib", "allow_post_copy", "allow_workload_disruption", "selectors")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_AUTO_CONVERGE_FIELD_NUMBER: _ClassVar[int]
    BANDWIDTH_PER_MIGRATION_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TIMEOUT_PER_GIB_FIELD_NUMBER: _ClassVar[int]
    ALLOW_POST_COPY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_WORKLOAD_DISRUPTION_FIELD_NUMBER: _ClassVar[int]
    SELECTORS_FIELD_NUMBER: _ClassVar[int]
    description: str
    allow_auto_converge: bool
    bandwidth_per_migration: str
    completion_timeout_per_gib: int
    allow_post_copy: bool
    allow_workload_disruption: bool
    selectors: MigrationPolicySelectors
    def __init__(self, description: _Optional[str] = ..., allow_auto_converge: _Optional[bool] = ..., bandwidth_per_migration: _Optional[str] = ..., completion_timeout_per_gib: _Optional[int] = ..., allow_post_copy: _Optional[bool] = ..., allow_workload_disruption: _Optional[bool] = ..., selectors: _Optional[_Union[MigrationPolicySelectors, _Mapping]] = ...) -> None: ...

class MigrationPolicySelectors(_message.Message):
    __slots__ = ("namespace_selector", "virtual_machine_instance_selector")
    class NamespaceSelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class VirtualMachineInstanceSelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAMESPACE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_INSTANCE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    namespace_selector: _containers.ScalarMap[str, str]
    virtual_machine_instance_selector: _containers.ScalarMap[str, str]
    def __init__(self, namespace_selector: _Optional[_Mapping[str, str]] = ..., virtual_machine_instance_selector: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MigrationPolicyStatus(_message.Message):
    __slots__ = ("governed_virtual_machine_count", "governed_virtual_machines")
    GOVERNED_VIRTUAL_MACHINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    GOVERNED_VIRTUAL_MACHINES_FIELD_NUMBER: _ClassVar[int]
    governed_virtual_machine_count: int
    governed_virtual_machines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, governed_virtual_machine_count: _Optional[int] = ..., governed_virtual_machines: _Optional[_Iterable[str]] = ...) -> None: ...

class PolicyCandidate(_message.Message):
    __slots__ = ("policy", "matches", "matching_virtual_machine_instance_labels", "matching_namespace_labels", "explanation")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    MATCHING_VIRTUAL_MACHINE_INSTANCE_LABELS_FIELD_NUMBER: _ClassVar[int]
    MATCHING_NAMESPACE_LABELS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    policy: str
    matches: bool
    matching_virtual_machine_instance_labels: int
    matching_namespace_labels: int
    explanation: str
    def __init__(self, policy: _Optional[str] = ..., matches: _Optional[bool] = ..., matching_virtual_machine_instance_labels: _Optional[int] = ..., matching_namespace_labels: _Optional[int] = ..., explanation: _Optional[str] = ...) -> None: ...

class CompletionTimeout(_message.Message):
    __slots__ = ("seconds", "data_bytes", "completion_timeout_per_gib", "formula", "note")
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    DATA_BYTES_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TIMEOUT_PER_GIB_FIELD_NUMBER: _ClassVar[int]
    FORMULA_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    seconds: int
    data_bytes: int
    completion_timeout_per_gib: int
    formula: str
    note: str
    def __init__(self, seconds: _Optional[int] = ..., data_bytes: _Optional[int] = ..., completion_timeout_per_gib: _Optional[int] = ..., formula: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class LiveMigratability(_message.Message):
    __slots__ = ("status", "reason", "message", "method")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[LiveMigratability.Status]
        LIVE_MIGRATABLE: _ClassVar[LiveMigratability.Status]
        NOT_LIVE_MIGRATABLE: _ClassVar[LiveMigratability.Status]
        UNKNOWN: _ClassVar[LiveMigratability.Status]
    STATUS_UNSPECIFIED: LiveMigratability.Status
    LIVE_MIGRATABLE: LiveMigratability.Status
    NOT_LIVE_MIGRATABLE: LiveMigratability.Status
    UNKNOWN: LiveMigratability.Status
    class Method(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        METHOD_UNSPECIFIED: _ClassVar[LiveMigratability.Method]
        LIVE_MIGRATION: _ClassVar[LiveMigratability.Method]
        BLOCK_MIGRATION: _ClassVar[LiveMigratability.Method]
    METHOD_UNSPECIFIED: LiveMigratability.Method
    LIVE_MIGRATION: LiveMigratability.Method
    BLOCK_MIGRATION: LiveMigratability.Method
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    status: LiveMigratability.Status
    reason: str
    message: str
    method: LiveMigratability.Method
    def __init__(self, status: _Optional[_Union[LiveMigratability.Status, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., method: _Optional[_Union[LiveMigratability.Method, str]] = ...) -> None: ...

class MigrationPolicyResolution(_message.Message):
    __slots__ = ("policy", "reason", "candidates", "virtual_machine_instance_labels", "namespace_labels", "no_labels_quirk", "effective", "provenance", "kubevirt_version", "completion_timeout", "live_migratability")
    class VirtualMachineInstanceLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class NamespaceLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    POLICY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_INSTANCE_LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_LABELS_FIELD_NUMBER: _ClassVar[int]
    NO_LABELS_QUIRK_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    KUBEVIRT_VERSION_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    LIVE_MIGRATABILITY_FIELD_NUMBER: _ClassVar[int]
    policy: str
    reason: str
    candidates: _containers.RepeatedCompositeFieldContainer[PolicyCandidate]
    virtual_machine_instance_labels: _containers.ScalarMap[str, str]
    namespace_labels: _containers.ScalarMap[str, str]
    no_labels_quirk: bool
    effective: MigrationSettings
    provenance: _containers.RepeatedCompositeFieldContainer[SettingProvenance]
    kubevirt_version: str
    completion_timeout: CompletionTimeout
    live_migratability: LiveMigratability
    def __init__(self, policy: _Optional[str] = ..., reason: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[PolicyCandidate, _Mapping]]] = ..., virtual_machine_instance_labels: _Optional[_Mapping[str, str]] = ..., namespace_labels: _Optional[_Mapping[str, str]] = ..., no_labels_quirk: _Optional[bool] = ..., effective: _Optional[_Union[MigrationSettings, _Mapping]] = ..., provenance: _Optional[_Iterable[_Union[SettingProvenance, _Mapping]]] = ..., kubevirt_version: _Optional[str] = ..., completion_timeout: _Optional[_Union[CompletionTimeout, _Mapping]] = ..., live_migratability: _Optional[_Union[LiveMigratability, _Mapping]] = ...) -> None: ...

class Migration(_message.Message):
    __slots__ = ("name", "uid", "labels", "annotations", "create_time", "update_time", "etag", "generation", "observed_generation", "reconciling", "state", "conditions", "spec", "status")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Migration.State]
        PENDING: _ClassVar[Migration.State]
        SCHEDULING: _ClassVar[Migration.State]
        SCHEDULED: _ClassVar[Migration.State]
        PREPARING_TARGET: _ClassVar[Migration.State]
        TARGET_READY: _ClassVar[Migration.State]
        RUNNING: _ClassVar[Migration.State]
        SUCCEEDED: _ClassVar[Migration.State]
        FAILED: _ClassVar[Migration.State]
    STATE_UNSPECIFIED: Migration.State
    PENDING: Migration.State
    SCHEDULING: Migration.State
    SCHEDULED: Migration.State
    PREPARING_TARGET: Migration.State
    TARGET_READY: Migration.State
    RUNNING: Migration.State
    SUCCEEDED: Migration.State
    FAILED: Migration.State
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
    state: Migration.State
    conditions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Condition]
    spec: MigrationSpec
    status: MigrationStatus
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., state: _Optional[_Union[Migration.State, str]] = ..., conditions: _Optional[_Iterable[_Union[_common_pb2.Condition, _Mapping]]] = ..., spec: _Optional[_Union[MigrationSpec, _Mapping]] = ..., status: _Optional[_Union[MigrationStatus, _Mapping]] = ...) -> None: ...

class MigrationSpec(_message.Message):
    __slots__ = ("target_node", "cancel_requested")
    TARGET_NODE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    target_node: str
    cancel_requested: bool
    def __init__(self, target_node: _Optional[str] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class MigrationStatus(_message.Message):
    __slots__ = ("mode", "source_node", "target_node", "start_time", "end_time", "data_transferred_bytes", "data_remaining_bytes", "policy", "configuration", "failure_reason", "method", "queue", "completion_timeout")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[MigrationStatus.Mode]
        PRE_COPY: _ClassVar[MigrationStatus.Mode]
        POST_COPY: _ClassVar[MigrationStatus.Mode]
        PAUSED: _ClassVar[MigrationStatus.Mode]
    MODE_UNSPECIFIED: MigrationStatus.Mode
    PRE_COPY: MigrationStatus.Mode
    POST_COPY: MigrationStatus.Mode
    PAUSED: MigrationStatus.Mode
    MODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NODE_FIELD_NUMBER: _ClassVar[int]
    TARGET_NODE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    DATA_TRANSFERRED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DATA_REMAINING_BYTES_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    mode: MigrationStatus.Mode
    source_node: str
    target_node: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    data_transferred_bytes: int
    data_remaining_bytes: int
    policy: str
    configuration: MigrationSettings
    failure_reason: str
    method: LiveMigratability.Method
    queue: MigrationQueue
    completion_timeout: CompletionTimeout
    def __init__(self, mode: _Optional[_Union[MigrationStatus.Mode, str]] = ..., source_node: _Optional[str] = ..., target_node: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_transferred_bytes: _Optional[int] = ..., data_remaining_bytes: _Optional[int] = ..., policy: _Optional[str] = ..., configuration: _Optional[_Union[MigrationSettings, _Mapping]] = ..., failure_reason: _Optional[str] = ..., method: _Optional[_Union[LiveMigratability.Method, str]] = ..., queue: _Optional[_Union[MigrationQueue, _Mapping]] = ..., completion_timeout: _Optional[_Union[CompletionTimeout, _Mapping]] = ...) -> None: ...

class MigrationQueue(_message.Message):
    __slots__ = ("position", "limit", "limit_value")
    class Limit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        LIMIT_UNSPECIFIED: _ClassVar[MigrationQueue.Limit]
        PER_CLUSTER: _ClassVar[MigrationQueue.Limit]
        PER_NODE_OUTBOUND: _ClassVar[MigrationQueue.Limit]
    LIMIT_UNSPECIFIED: MigrationQueue.Limit
    PER_CLUSTER: MigrationQueue.Limit
    PER_NODE_OUTBOUND: MigrationQueue.Limit
    POSITION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_VALUE_FIELD_NUMBER: _ClassVar[int]
    position: int
    limit: MigrationQueue.Limit
    limit_value: int
    def __init__(self, position: _Optional[int] = ..., limit: _Optional[_Union[MigrationQueue.Limit, str]] = ..., limit_value: _Optional[int] = ...) -> None: ...

class GetMigrationConfigRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UpdateMigrationConfigRequest(_message.Message):
    __slots__ = ("migration_config", "update_mask", "validate_only", "request_id")
    MIGRATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    migration_config: MigrationConfig
    update_mask: _field_mask_pb2.FieldMask
    validate_only: bool
    request_id: str
    def __init__(self, migration_config: _Optional[_Union[MigrationConfig, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetMigrationPolicyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListMigrationPoliciesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMigrationPoliciesResponse(_message.Message):
    __slots__ = ("migration_policies", "next_page_token")
    MIGRATION_POLICIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    migration_policies: _containers.RepeatedCompositeFieldContainer[MigrationPolicy]
    next_page_token: str
    def __init__(self, migration_policies: _Optional[_Iterable[_Union[MigrationPolicy, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateMigrationPolicyRequest(_message.Message):
    __slots__ = ("parent", "migration_policy_id", "migration_policy", "request_id", "validate_only")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    migration_policy_id: str
    migration_policy: MigrationPolicy
    request_id: str
    validate_only: bool
    def __init__(self, parent: _Optional[str] = ..., migration_policy_id: _Optional[str] = ..., migration_policy: _Optional[_Union[MigrationPolicy, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class UpdateMigrationPolicyRequest(_message.Message):
    __slots__ = ("migration_policy", "update_mask", "allow_missing", "validate_only", "request_id")
    MIGRATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    migration_policy: MigrationPolicy
    update_mask: _field_mask_pb2.FieldMask
    allow_missing: bool
    validate_only: bool
    request_id: str
    def __init__(self, migration_policy: _Optional[_Union[MigrationPolicy, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., allow_missing: _Optional[bool] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteMigrationPolicyRequest(_message.Message):
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

class ResolveMigrationPolicyRequest(_message.Message):
    __slots__ = ("parent", "virtual_machine_instance_labels", "namespace_labels", "memory")
    class VirtualMachineInstanceLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class NamespaceLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PARENT_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MACHINE_INSTANCE_LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_LABELS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    virtual_machine_instance_labels: _containers.ScalarMap[str, str]
    namespace_labels: _containers.ScalarMap[str, str]
    memory: str
    def __init__(self, parent: _Optional[str] = ..., virtual_machine_instance_labels: _Optional[_Mapping[str, str]] = ..., namespace_labels: _Optional[_Mapping[str, str]] = ..., memory: _Optional[str] = ...) -> None: ...

class ResolveVirtualMachineMigrationPolicyRequest(_message.Message):
    __slots__ = ("name", "namespace_labels")
    class NamespaceLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace_labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., namespace_labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MigrateVirtualMachineRequest(_message.Message):
    __slots__ = ("name", "target_node", "migration_id", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TARGET_NODE_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    target_node: str
    migration_id: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., target_node: _Optional[str] = ..., migration_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetMigrationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListMigrationsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMigrationsResponse(_message.Message):
    __slots__ = ("migrations", "next_page_token")
    MIGRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    migrations: _containers.RepeatedCompositeFieldContainer[Migration]
    next_page_token: str
    def __init__(self, migrations: _Optional[_Iterable[_Union[Migration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelMigrationRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EvacuateNodeRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EvacuationSkip(_message.Message):
    __slots__ = ("virtual_machine", "reason", "message", "migration")
    VIRTUAL_MACHINE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    virtual_machine: str
    reason: str
    message: str
    migration: str
    def __init__(self, virtual_machine: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., migration: _Optional[str] = ...) -> None: ...

class EvacuateNodeResponse(_message.Message):
    __slots__ = ("node", "migrations", "moved", "not_moved")
    NODE_FIELD_NUMBER: _ClassVar[int]
    MIGRATIONS_FIELD_NUMBER: _ClassVar[int]
    MOVED_FIELD_NUMBER: _ClassVar[int]
    NOT_MOVED_FIELD_NUMBER: _ClassVar[int]
    node: str
    migrations: _containers.RepeatedScalarFieldContainer[str]
    moved: _containers.RepeatedScalarFieldContainer[str]
    not_moved: _containers.RepeatedCompositeFieldContainer[EvacuationSkip]
    def __init__(self, node: _Optional[str] = ..., migrations: _Optional[_Iterable[str]] = ..., moved: _Optional[_Iterable[str]] = ..., not_moved: _Optional[_Iterable[_Union[EvacuationSkip, _Mapping]]] = ...) -> None: ...
