"""Harrow's Python SDK. The generated stubs of the contract live in `harrow.v1`."""
