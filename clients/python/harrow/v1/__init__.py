"""Generated from proto/harrow/v1 by `make proto`; do not edit the *_pb2* modules by hand."""
