#!/usr/bin/env bash
# The README's tour, against a running server: `comply serve` in another terminal (its
# first start writes the CLI config), or COMPLY_SERVER and COMPLY_TOKEN set.
#
#   examples/tour.sh            # uses `comply` from PATH; COMPLY=path/to/comply to choose
#
# Keys are generated at run time in a scratch directory; nothing private is committed.
# Needs openssl (for the image signature, as cosign would make it) and base64.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
comply="${COMPLY:-comply}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
step() { printf '\n$ comply %s\n' "$*"; "$comply" "$@"; }

# Content: built-in frameworks, our own requirements and framework, a product.
step framework list
step apply -f "$here/requirements.yaml" -f "$here/product.yaml" -f "$here/contract.yaml"
step reference-data list                    # the CISA KEV catalog cves-in-kev reads

# Trust the CI key that signs attestations.
step key generate --out ci                  # ci.key (private), ci.pub
step key add ci --public-key ci.pub

# Sign the image digest: a DSSE envelope over an in-toto statement naming the image's
# digest (what `cosign attest` makes), with a key of its own (here openssl's Ed25519).
image="$(cat "$here/image.ref")"
digest="${image#*@}"
openssl genpkey -algorithm ed25519 -out cosign.key 2>/dev/null
openssl pkey -in cosign.key -pubout -out cosign.pub
payload_type="application/vnd.in-toto+json"
printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"%s","digest":{"sha256":"%s"}}],"predicateType":"https://cosign.sigstore.dev/attestation/v1","predicate":{}}' \
  "${image%@*}" "${digest#sha256:}" > payload.json
# DSSE's pre-authentication encoding: what is actually signed.
{ printf 'DSSEv1 %d %s %d ' "${#payload_type}" "$payload_type" "$(wc -c < payload.json)"; cat payload.json; } > pae.bin
openssl pkeyutl -sign -inkey cosign.key -rawin -in pae.bin -out sig.bin
printf '{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"","sig":"%s"}]}\n' \
  "$payload_type" "$(base64 -w0 < payload.json)" "$(base64 -w0 < sig.bin)" > image.sig.json

# A first build: its scan finds Spring4Shell (CVE-2022-22965, in the KEV catalog).
attest() {
  step attest init --contract build --project api --version 1.8.0
  step attest add --name sbom --value "$here/sbom.cdx.json"
  step attest add --name scan --value "$1"
  step attest add --name image --value "$image" --signature image.sig.json --signature-key cosign.pub
  step attest push --key ci.key
}
attest "$here/scan-spring4shell.trivy.json"
step status portal --version 2.4 --explain

# The fix: a clean scan of the next build.
attest "$here/scan-clean.trivy.json"
step status portal --version 2.4 --explain
step status                                  # every product version: score, compliant
step history portal --from "$(date -u +%F)" --to "$(date -u +%F)"
step requirement coverage no-vulnerabilities-high
step audit list
# The release gate: web has no evidence yet, so the gate fails (exit 1), as it should.
if step status portal --version 2.4 --fail-on-noncompliant; then
  echo "tour: the gate passed although web has no evidence" >&2
  exit 1
fi
echo "tour: done (the gate failed as expected: web has no evidence yet)"
