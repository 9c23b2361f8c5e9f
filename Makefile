# Every target sets up what it needs: the first run creates .venv and installs the pinned dependencies.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
GOOGLE_PROTOS = $(shell $(PY) -c 'import google.api, os; print(os.path.dirname(os.path.dirname(google.api.__path__[0])))')

.PHONY: up test test-terraform terraform-provider lint proto sdk bench bench-smoke clean

$(STAMP): requirements.lock pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e clients/python -e .
	touch $(STAMP)

up: $(STAMP)
	$(VENV)/bin/harrow-server up

test: $(STAMP) terraform-provider
	$(PY) -m pytest -q -n 2

lint: $(STAMP) terraform-provider
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	cd clients/python && ../../$(VENV)/bin/mypy --config-file pyproject.toml
	cd clients/terraform && ../../$(VENV)/bin/mypy --python-executable .venv/bin/python

# The Terraform provider's own venv (clients/terraform/.venv): tf pins protobuf < 6; it also holds terraform 1.0.3.
terraform-provider:
	PYTHON=$(PYTHON) clients/terraform/install.sh

test-terraform: $(STAMP) terraform-provider
	$(PY) -m pytest -q tests/terraform

# googleapis-common-protos ships google/longrunning/operations.proto as operations_proto.proto
# (the module it generates still registers the canonical name), so protoc gets a copy under that name.
proto: $(STAMP)
	rm -f clients/python/harrow/v1/*_pb2*.py clients/python/harrow/v1/*_pb2*.pyi
	mkdir -p $(VENV)/proto-include/google/longrunning
	cp $(GOOGLE_PROTOS)/google/longrunning/operations_proto.proto $(VENV)/proto-include/google/longrunning/operations.proto
	$(PY) -m grpc_tools.protoc -Iproto -I$(VENV)/proto-include -I$(GOOGLE_PROTOS) \
		--python_out=clients/python --pyi_out=clients/python --grpc_python_out=clients/python \
		proto/harrow/v1/*.proto

# Typed SDK methods (clients/python/harrow/_services.py) from the stubs `make proto` wrote; raises the
# SDK's minor version when the contract changed. Run after `make proto`.
sdk: $(STAMP)
	$(PY) clients/python/tools/generate_sdk.py

bench: $(STAMP)
	$(PY) -m bench

bench-smoke: $(STAMP)
	$(PY) -m bench --smoke

clean:
	rm -rf $(VENV) clients/terraform/.venv .harrow .pytest_cache .mypy_cache .ruff_cache
