#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, and all tests (unit, doc, compile-fail,
# behaviour). Needs only the Rust toolchain; cargo fetches the crates.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

echo "== quickstart"
cargo run --quiet -p examples --example quickstart
