"""Schema pieces `tf` lacks: ordered (list) and single nested blocks, and an object type for data sources.

`tf` ships only set-nested blocks. A VM's disks and interfaces are ordered (the order is the bus
order, and Harrow echoes it), so they are list blocks; one-of-a-kind groups (`cpu`, `cloud_init`,
`timeouts`) are single blocks. Values inside blocks are plain dicts holding every attribute of the
block (absent ones as None), because Terraform wants whole objects back.
"""

from __future__ import annotations

from typing import Any

from tf.gen import tfplugin_pb2 as pb
from tf.schema import Attribute, Block, NestedBlock, NestMode
from tf.types import TfType, Unknown


class _Nested(NestedBlock):
    """Shared encode/decode: each element is a dict of the block's attributes and nested blocks."""

    _nesting: int

    def to_pb(self) -> pb.Schema.NestedBlock:
        return pb.Schema.NestedBlock(
            type_name=self.type_name,
            block=self.block.to_pb(),
            min_items=self.min_items,
            max_items=self.max_items,
            nesting=self._nesting,
        )

    def _encode_one(self, value: Any) -> Any:
        from tf.provider import _encode_state_d

        return _encode_state_d(self._amap(), self._bmap(), complete(self.block, value), None)

    def _decode_one(self, value: Any) -> Any:
        from tf.provider import _decode_state
        from tf.utils import Diagnostics

        return _decode_state(Diagnostics(), self._amap(), self._bmap(), value)[1]

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(a_decoded == b_decoded)


class ListBlock(_Nested):
    """`disk { … }` repeated, in the order written."""

    _nesting = pb.Schema.NestedBlock.NestingMode.LIST

    def __init__(self, type_name: str, block: Block, min_items: int | None = None) -> None:
        super().__init__(type_name, NestMode.Set, block, min_items=min_items)

    def encode(self, value: Any) -> Any:
        return [self._encode_one(item) for item in value or []]

    def decode(self, value: Any) -> Any:
        return [self._decode_one(item) for item in value or []]


class SingleBlock(_Nested):
    """`cpu { … }` at most once; absent is None."""

    _nesting = pb.Schema.NestedBlock.NestingMode.SINGLE

    def __init__(self, type_name: str, block: Block) -> None:
        super().__init__(type_name, NestMode.Single, block)

    def encode(self, value: Any) -> Any:
        return None if value is None else self._encode_one(value)

    def decode(self, value: Any) -> Any:
        return None if value is None else self._decode_one(value)


class Object(TfType):
    """A cty object type, for computed structured values of data sources (blocks cannot be computed)."""

    def __init__(self, **attributes: TfType) -> None:
        self.attributes = attributes

    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any) -> Any:
        return value

    def tf_type(self) -> bytes:
        fields = ",".join(f'"{name}":{kind.tf_type().decode()}' for name, kind in self.attributes.items())
        return f'["object",{{{fields}}}]'.encode()


def complete(block: Block, value: Any) -> Any:
    """The value with every attribute and nested block of `block` present, as Terraform requires."""
    if value is None or value is Unknown:
        return value
    whole = {attribute.name: value.get(attribute.name) for attribute in block.attributes}
    for nested in block.block_types:
        inner = value.get(nested.type_name)
        if isinstance(nested, ListBlock):
            whole[nested.type_name] = [complete(nested.block, item) for item in inner or []]
        else:
            whole[nested.type_name] = complete(nested.block, inner)
    return whole


def optional(name: str, kind: TfType, description: str, **flags: Any) -> Attribute:
    return Attribute(name, kind, description=description, optional=True, **flags)


def required(name: str, kind: TfType, description: str, **flags: Any) -> Attribute:
    return Attribute(name, kind, description=description, required=True, **flags)


def computed(name: str, kind: TfType, description: str) -> Attribute:
    return Attribute(name, kind, description=description, computed=True)
