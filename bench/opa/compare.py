#!/usr/bin/env python3
"""Times the Rego that comply evaluates in OPA itself, beside regorus's figures.

Needs the OPA Go engine as a shared library: PyPI's opa-golib-python-bindings wheel,
unpacked and put on PYTHONPATH (see run.sh). Reads the cases that
`cargo run --release -p comply-policy --example export_engine_comparison -- DIR` wrote.
Not part of the test run.
"""

import json
import statistics
import sys
import time
from pathlib import Path

from opa_bindings import OpaEngine

RUNS = 30


def main(out: Path) -> None:
    cases = json.loads((out / "cases.json").read_text())
    print(f"{'case':22} {'policy':28} {'regorus ms':>10} {'OPA ms':>10} {'OPA/regorus':>12}")
    for case in cases:
        totals = [0.0, 0.0]
        for script in case["scripts"]:
            module = (out / script["module"]).read_text()
            document = json.loads((out / script["input"]).read_text())
            path = script["rule"].removeprefix("data.")
            with OpaEngine() as opa:
                opa.add_policy(script["module"], module)
                opa.eval_document(path, document)  # warm-up: compiles and prepares
                timings = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    opa.eval_document(path, document)
                    timings.append((time.perf_counter() - started) * 1000)
            opa_ms = statistics.median(timings)
            ours = script["regorus_median_ms"]
            totals[0] += ours
            totals[1] += opa_ms
            print(f"{case['case']:22} {script['policy']:28} {ours:10.2f} {opa_ms:10.2f} {opa_ms / ours:12.2f}")
        print(f"{case['case']:22} {'(all scripts)':28} {totals[0]:10.2f} {totals[1]:10.2f} {totals[1] / totals[0]:12.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/opa/out"))
