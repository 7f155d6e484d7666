#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, warning-free docs, all tests (unit, doc,
# compile-fail, the conformance suite on the embedded store and on a local Cosmos DB-compatible
# server, the web example end to end, offline auth and doctor tests) and every example on both
# stores. Installs what it needs: crates through cargo, the local server through npm ci
# (scripts/local-server.sh). A server that does not start fails the run. With
# COSMOS_EMULATOR_ENDPOINT set (e.g. https://localhost:8081/ for the official emulator in
# Docker) the suite also runs against that emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== local Cosmos DB server"
server_log="$(mktemp)"
./scripts/local-server.sh --port 0 >"$server_log" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -f "$server_log"' EXIT
for _ in $(seq 1 600); do
    grep -q '"endpoint"' "$server_log" && break
    kill -0 "$server_pid" 2>/dev/null || { echo "the local server failed to start" >&2; exit 1; }
    sleep 0.1
done
COSMOS_TEST_ENDPOINT="$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' "$server_log")"
[[ -n "$COSMOS_TEST_ENDPOINT" ]] || { echo "the local server did not start within 60 s" >&2; exit 1; }
export COSMOS_TEST_ENDPOINT
echo "listening on $COSMOS_TEST_ENDPOINT"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The runtime without the SDK, as the compile-fail suite builds it.
cargo clippy -p cosmos-repo --no-default-features --features derive --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace

if [[ -n "${COSMOS_EMULATOR_ENDPOINT:-}" ]]; then
    echo "== conformance suite on the emulator at $COSMOS_EMULATOR_ENDPOINT"
    cargo test -p cosmos-repo-tests --test emulator -- --ignored
fi

# Every example on both stores; web_api serves until stopped, so its end-to-end test (in
# `cargo test`) drives it instead, and doctor runs last, checking the database the quickstart
# made.
key="C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DXjfvwYIhYlTPQ0byOWrXH2dw6tgYrDnThZ9HXp3Acv+Ww=="
run_example() {
    local example="$1" database="$2"
    echo "== example $example, embedded store"
    cargo run --quiet -p examples --example "$example"
    echo "== example $example, local server"
    COSMOS_ENDPOINT="$COSMOS_TEST_ENDPOINT" COSMOS_DATABASE="$database" COSMOS_KEY="$key" \
        cargo run --quiet -p examples --example "$example"
}
for file in examples/examples/*.rs; do
    example="$(basename "$file" .rs)"
    [[ "$example" == web_api || "$example" == doctor ]] && continue
    # The local server cannot evaluate VectorDistance or FullTextScore (tests/server/README.md):
    # semantic search runs on the embedded store only.
    if [[ "$example" == semantic_search ]]; then
        echo "== example $example, embedded store"
        cargo run --quiet -p examples --example "$example"
        continue
    fi
    run_example "$example" "example-$example"
done
run_example doctor example-quickstart
