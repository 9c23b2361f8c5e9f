"""JSON log lines carry the request's ids and never a credential."""

from __future__ import annotations

import json
import logging

from server.logging_config import JsonFormatter, begin_request, end_request, redact


def line(message: str, *args: object) -> dict[str, object]:
    record = logging.LogRecord("harrow.test", logging.INFO, __file__, 1, message, args, None)
    return dict(json.loads(JsonFormatter().format(record)))


def test_a_line_carries_the_request_id_and_the_callers_trace() -> None:
    token = begin_request("req-7", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    try:
        logged = line("listing %s", "clusters")
    finally:
        end_request(token)
    assert logged["message"] == "listing clusters" and logged["level"] == "INFO"
    assert logged["request_id"] == "req-7"
    assert (logged["trace_id"], logged["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert "request_id" not in line("outside any call")


def test_a_malformed_traceparent_or_request_id_is_not_trusted() -> None:
    token = begin_request("bad\nid", "01-zz-00-01")
    try:
        logged = line("x")
    finally:
        end_request(token)
    assert "trace_id" not in logged
    assert (
        isinstance(logged["request_id"], str) and len(logged["request_id"]) == 32 and "\n" not in logged["request_id"]
    )


def test_credentials_are_masked_wherever_they_appear() -> None:
    text = "connect postgresql://harrow:s3cret@db:5432/harrow with Bearer abc.def-123 and token=xyz&x=1"
    masked = redact(text)
    assert "s3cret" not in masked and "abc.def-123" not in masked and "xyz" not in masked
    assert "postgresql://harrow:***@db:5432/harrow" in masked and "Bearer ***" in masked
    assert "s3cret" not in json.dumps(line("%s", text))
