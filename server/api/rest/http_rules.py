"""The google.api.http rules of a set of services, read once from their descriptors.

The transcoder and the OpenAPI document both start from this list, so what
is documented is exactly what is served.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from server.api.rest.path_template import PathTemplate


@dataclass(frozen=True)
class HttpBinding:
    method: MethodDescriptor
    http_method: str
    template: PathTemplate
    body: str

    @property
    def full_method(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def path_fields(self) -> tuple[tuple[str, ...], ...]:
        return tuple(variable.field_path for variable in self.template.variables)


def http_bindings(services: Iterable[ServiceDescriptor]) -> list[HttpBinding]:
    bindings: list[HttpBinding] = []
    for service in services:
        for method in service.methods:
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            for each in (rule, *rule.additional_bindings):
                binding = _binding(method, each)
                if binding is not None:
                    bindings.append(binding)
    _check_unique(bindings)
    return bindings


def _binding(method: MethodDescriptor, rule: http_pb2.HttpRule) -> HttpBinding | None:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        return None
    if rule.response_body:
        raise ValueError(f"{method.full_name}: response_body is not supported")
    if kind == "custom":
        http_method, path = rule.custom.kind.upper(), rule.custom.path
    else:
        http_method, path = kind.upper(), getattr(rule, kind)
    return HttpBinding(method, http_method, PathTemplate.parse(path), rule.body)


def _check_unique(bindings: list[HttpBinding]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for binding in bindings:
        key = (binding.http_method, binding.template.regex.pattern)
        if key in seen:
            raise ValueError(
                f"{binding.method.full_name} and {seen[key]} share {binding.http_method} {binding.template.template}"
            )
        seen[key] = binding.method.full_name
