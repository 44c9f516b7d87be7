#!/usr/bin/env bash
# Runs Chainloop's own policy examples and resource files through comply.
#
#   scripts/chainloop-compat.sh CHAINLOOP_CHECKOUT [COMPLY_BIN]
#
# 1. Every docs/examples/policies/*/test.sh, unchanged, with `chainloop` on PATH being a
#    shim that turns `chainloop policy develop eval|lint ARGS` into `comply policy
#    eval|lint ARGS`.
# 2. Every Contract, Policy and PolicyGroup document (YAML or JSON, legacy v1 contracts
#    included) under docs/examples and the repository's testdata directories, through
#    `comply lint -f FILE` (the validation `apply` performs, offline, against comply's
#    built-ins), run from the directory Chainloop resolves `file://` references from
#    (a Go package's directory for its testdata, else the file's own directory).
#
# http-hostname-validation's two networked cases need the public host app.chainloop.dev;
# when they fail (no network), they are run again against a loopback stand-in.
#
# Prints one line per case and a summary; the exit status is 0 whatever the results.
set -u
CHECKOUT=$(cd "${1:?usage: $0 CHAINLOOP_CHECKOUT [COMPLY_BIN]}" && pwd)
COMPLY=${2:-$(command -v comply || echo "$(cd "$(dirname "$0")/.." && pwd)/target/debug/comply")}
COMPLY=$(cd "$(dirname "$COMPLY")" && pwd)/$(basename "$COMPLY")
[ -x "$COMPLY" ] || { echo "comply binary not found: $COMPLY" >&2; exit 2; }

SHIM=$(mktemp -d)
trap 'rm -rf "$SHIM"' EXIT
cat >"$SHIM/chainloop" <<SH
#!/bin/sh
if [ "\$1" = policy ] && [ "\$2" = develop ]; then
  shift 2
  exec "$COMPLY" policy "\$@"
fi
echo "chainloop shim: only 'policy develop eval|lint' is mapped onto comply" >&2
exit 2
SH
chmod +x "$SHIM/chainloop"

echo "== docs/examples/policies/*/test.sh through the chainloop policy develop shim"
total_pass=0 total_fail=0
for t in "$CHECKOUT"/docs/examples/policies/*/test.sh; do
  dir=$(dirname "$t")
  out=$(cd "$dir" && PATH="$SHIM:$PATH" bash ./test.sh 2>&1)
  clean=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g')
  pass=$(printf '%s\n' "$clean" | sed -n 's/^Passed: //p' | tail -1)
  fail=$(printf '%s\n' "$clean" | sed -n 's/^Failed: //p' | tail -1)
  total_pass=$((total_pass + ${pass:-0})); total_fail=$((total_fail + ${fail:-0}))
  echo "$(basename "$dir"): ${pass:-0} passed, ${fail:-0} failed"
  printf '%s\n' "$clean" | awk '/^Testing:/{t=$0} /^✗/{print "    " t " -> " $0}'
  if [ "${fail:-0}" != 0 ] && command -v python3 >/dev/null; then
    # Fixtures age: rerun with every timestamp in testdata moved forward by the time
    # since the fixtures were committed, so they are as old as when the test was written.
    since=$(git -C "$CHECKOUT" log -1 --format=%ct -- "${dir#"$CHECKOUT"/}/testdata" 2>/dev/null)
    if [ -n "$since" ]; then
      copy=$(mktemp -d)
      cp -r "$dir" "$copy/" && cp "$CHECKOUT/docs/examples/policies/_testutils.sh" "$copy/"
      python3 - "$copy/$(basename "$dir")/testdata" "$since" <<'PY'
import datetime, pathlib, re, sys
root, since = pathlib.Path(sys.argv[1]), int(sys.argv[2])
shift = datetime.datetime.now(datetime.timezone.utc) - datetime.datetime.fromtimestamp(since, datetime.timezone.utc)
pattern = re.compile(r'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z')
def move(m):
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S") + shift
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (m.group(2) or "") + "Z"
for f in root.rglob("*"):
    if f.is_file():
        try:
            f.write_text(pattern.sub(move, f.read_text()))
        except UnicodeDecodeError:
            pass
PY
      out2=$(cd "$copy/$(basename "$dir")" && PATH="$SHIM:$PATH" bash ./test.sh 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
      pass2=$(printf '%s\n' "$out2" | sed -n 's/^Passed: //p' | tail -1)
      fail2=$(printf '%s\n' "$out2" | sed -n 's/^Failed: //p' | tail -1)
      echo "  with fixture dates moved forward by the fixtures' age: ${pass2:-0} passed, ${fail2:-0} failed"
      printf '%s\n' "$out2" | awk '/^Testing:/{t=$0} /^✗/{print "    " t " -> " $0}'
      rm -rf "$copy"
    fi
  fi
  if [ "$(basename "$dir")" = http-hostname-validation ] && [ "${fail:-0}" != 0 ] && command -v python3 >/dev/null; then
    # Two cases call https://app.chainloop.dev with --allowed-hostnames app.chainloop.dev
    # and need that public host. Without it, rerun a copy whose policy and test.sh name a
    # loopback stand-in answering as the platform's /api/info does.
    copy=$(mktemp -d)
    cp -r "$dir" "$copy/" && cp "$CHECKOUT/docs/examples/policies/_testutils.sh" "$copy/"
    port_file="$copy/port"
    python3 - "$port_file" <<'PY' &
import http.server, json, sys
class Info(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"platform": {"version": "v0.999.0"}}, separators=(",", ":")).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", 0), Info)
open(sys.argv[1], "w").write(str(server.server_port))
server.serve_forever()
PY
    stand_in=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$port_file" ] && break; sleep 0.2; done
    port=$(cat "$port_file" 2>/dev/null)
    sed -i "s|https://app.chainloop.dev/api/info|http://127.0.0.1:$port/api/info|g; s|--allowed-hostnames app.chainloop.dev|--allowed-hostnames 127.0.0.1|g" \
      "$copy/http-hostname-validation/policy.yaml" "$copy/http-hostname-validation/test.sh"
    out3=$(cd "$copy/http-hostname-validation" && PATH="$SHIM:$PATH" bash ./test.sh 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
    kill "$stand_in" 2>/dev/null; wait "$stand_in" 2>/dev/null
    pass3=$(printf '%s\n' "$out3" | sed -n 's/^Passed: //p' | tail -1)
    fail3=$(printf '%s\n' "$out3" | sed -n 's/^Failed: //p' | tail -1)
    echo "  with a loopback stand-in for app.chainloop.dev: ${pass3:-0} passed, ${fail3:-0} failed"
    printf '%s\n' "$out3" | awk '/^Testing:/{t=$0} /^✗/{print "    " t " -> " $0}'
    rm -rf "$copy"
  fi
done
echo "test.sh cases: $total_pass passed, $total_fail failed (as the fixtures are today)"

echo
echo "== Chainloop's contracts, policies and groups through comply lint"
ok=0 refused=0
while IFS= read -r f; do
  if ! grep -qE '^(kind: *(Contract|Policy|PolicyGroup)|schemaVersion)|"kind": *"(Contract|Policy|PolicyGroup)"|"schemaVersion"' "$f"; then
    continue
  fi
  case "$f" in
    */testdata/*) cwd=${f%%/testdata/*} ;;
    *) cwd=$(dirname "$f") ;;
  esac
  rel=${f#"$CHECKOUT"/}
  if out=$(cd "$cwd" && "$COMPLY" lint -f "$f" 2>&1); then
    ok=$((ok + 1)); echo "ok       $rel"
  else
    refused=$((refused + 1))
    reason=$(printf '%s\n' "$out" | grep -v '^error: [0-9]* problem' | head -1 | sed "s|$CHECKOUT/||g; s/^ *//")
    echo "refused  $rel: $reason"
  fi
done < <(find "$CHECKOUT/docs/examples" "$CHECKOUT/app" "$CHECKOUT/pkg" \
           \( -path '*/testdata/*' -o -path "$CHECKOUT/docs/examples/*" \) \
           \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -type f 2>/dev/null \
         | grep -v -e '/attestations/' -e '/materials/' -e '/renderer/' -e 'jsonschema' | sort)
echo "resource files: $ok accepted, $refused refused"
exit 0
