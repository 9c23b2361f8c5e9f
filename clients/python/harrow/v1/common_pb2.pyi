import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WATCH_EVENT_TYPE_UNSPECIFIED: _ClassVar[WatchEventType]
    ADDED: _ClassVar[WatchEventType]
    MODIFIED: _ClassVar[WatchEventType]
    DELETED: _ClassVar[WatchEventType]
    BOOKMARK: _ClassVar[WatchEventType]
WATCH_EVENT_TYPE_UNSPECIFIED: WatchEventType
ADDED: WatchEventType
MODIFIED: WatchEventType
DELETED: WatchEventType
BOOKMARK: WatchEventType

class Condition(_message.Message):
    __slots__ = ("type", "status", "reason", "message", "last_transition_time")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Condition.Status]
        TRUE: _ClassVar[Condition.Status]
        FALSE: _ClassVar[Condition.Status]
        UNKNOWN: _ClassVar[Condition.Status]
    STATUS_UNSPECIFIED: Condition.Status
    TRUE: Condition.Status
    FALSE: Condition.Status
    UNKNOWN: Condition.Status
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: Condition.Status
    reason: str
    message: str
    last_transition_time: _timestamp_pb2.Timestamp
    def __init__(self, type: _Optional[str] = ..., status: _Optional[_Union[Condition.Status, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., last_transition_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OperationMetadata(_message.Message):
    __slots__ = ("target", "verb", "create_time", "end_time", "target_generation", "status_message", "cancel_requested", "request_id", "warnings")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    TARGET_GENERATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    target: str
    verb: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    target_generation: int
    status_message: str
    cancel_requested: bool
    request_id: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, target: _Optional[str] = ..., verb: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., target_generation: _Optional[int] = ..., status_message: _Optional[str] = ..., cancel_requested: _Optional[bool] = ..., request_id: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...
