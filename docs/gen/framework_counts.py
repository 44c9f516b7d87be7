#!/usr/bin/env python3
"""Prints the counts table of docs/frameworks.md from content/ (run from the repo root):
for each built-in framework, how many requirements are automated (policies only),
hybrid (policies and proofs) or manual (proofs only), and how many are product-scoped."""
import glob
import yaml

reqs, fws = {}, {}
for path in glob.glob("content/**/*.yaml", recursive=True):
    for doc in yaml.safe_load_all(open(path)):
        if not doc:
            continue
        if doc["kind"] == "Requirement":
            reqs[doc["metadata"]["name"]] = doc
        elif doc["kind"] == "Framework":
            fws[doc["metadata"]["name"]] = doc


def refs(node):
    for r in node.get("requirements", []) or []:
        yield r["ref"]
    for s in node.get("sections", []) or []:
        yield from refs(s)


print("| framework | preview | requirements | automated | hybrid | manual | product-scoped |")
print("|---|---|---|---|---|---|---|")
for name in ["best-practices", "slsa", "cra", "ssdf", "osps-baseline"]:
    fw = fws[name]
    counts = {"auto": 0, "hybrid": 0, "manual": 0, "product": 0}
    names = list(refs(fw["spec"]))
    for r in names:
        spec = reqs[r]["spec"]
        p, m = bool(spec.get("policies")), bool(spec.get("manual_proofs"))
        counts["hybrid" if p and m else "auto" if p else "manual"] += 1
        if (reqs[r]["metadata"].get("annotations") or {}).get("scope") == "PRODUCT":
            counts["product"] += 1
    preview = (fw["metadata"].get("annotations") or {}).get("comply.dev/preview") == "true"
    print(f"| `{name}` | {'yes' if preview else 'no'} | {len(names)} | {counts['auto']} | "
          f"{counts['hybrid']} | {counts['manual']} | {counts['product']} |")
