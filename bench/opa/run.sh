#!/usr/bin/env bash
# Compares regorus (comply's engine) with OPA on the same Rego and inputs.
# Downloads PyPI's opa-golib-python-bindings wheel (OPA's Go engine as a C library with a
# ctypes wrapper; declared for Python 3.14, works on 3.11), unpacks it under target/.
set -euo pipefail
cd "$(dirname "$0")/../.."
wheel_dir=target/opa-wheel
if [ ! -d "$wheel_dir/opa_bindings" ]; then
  mkdir -p "$wheel_dir"
  pip download --no-deps --only-binary=:all: --python-version 3.14 \
    --platform manylinux_2_34_x86_64 opa-golib-python-bindings -d "$wheel_dir"
  python3 -m zipfile -e "$wheel_dir"/opa_golib_python_bindings-*.whl "$wheel_dir"
fi
out=target/opa-comparison
cargo run --release -q -p comply-policy --example export_engine_comparison -- "$out"
PYTHONPATH="$wheel_dir" python3 bench/opa/compare.py "$out"
