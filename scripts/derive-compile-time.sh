#!/usr/bin/env bash
# The derive's cost at compile time: builds a crate of 200 document types deriving
# `Serialize, Deserialize, CosmosDocument` and the same crate deriving only serde's traits,
# side by side (dependencies built first, then each crate from clean, twice), and prints both
# times, their ratio, and the lines of code the derive generates per type.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$root/target/derive-compile-time"
types=200
rm -rf "$work"
mkdir -p "$work"

make_crate() {
    local name="$1" derives="$2"
    mkdir -p "$work/$name/src"
    cat >"$work/$name/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
cosmos-repo = { path = "$root/cosmos-repo", default-features = false, features = ["derive"] }
serde = { version = "1", features = ["derive"] }

[workspace]
TOML
    {
        echo "#![allow(dead_code)]"
        echo "use cosmos_repo::prelude::*;"
        for i in $(seq 1 "$types"); do
            cat <<RUST
#[derive(Serialize, Deserialize$derives)]
#[serde(rename_all = "camelCase")]
pub struct Doc$i {
    #[id] pub id: String,
    #[partition_key] pub tenant_id: String,
    pub name: String,
    pub total: f64,
    pub count: i64,
    pub tags: Vec<String>,
    pub note: Option<String>,
}
RUST
        done
    } >"$work/$name/src/lib.rs"
    if [[ -z "$derives" ]]; then
        # Without the derive, the key attributes mean nothing.
        sed -i 's/#\[id\] //; s/#\[partition_key\] //' "$work/$name/src/lib.rs"
    fi
}

make_crate with_derive ", CosmosDocument"
make_crate serde_only ""

export CARGO_TARGET_DIR="$work/target"
seconds() {
    local crate="$1"
    cargo build --quiet --manifest-path "$work/$crate/Cargo.toml" 2>/dev/null || cargo build --manifest-path "$work/$crate/Cargo.toml"
    local total=0
    for _ in 1 2; do
        cargo clean --quiet --manifest-path "$work/$crate/Cargo.toml" -p "$crate"
        local start end
        start=$(date +%s.%N)
        cargo build --quiet --manifest-path "$work/$crate/Cargo.toml"
        end=$(date +%s.%N)
        total=$(echo "$total + $end - $start" | bc -l)
    done
    echo "$total / 2" | bc -l
}
serde_only=$(seconds serde_only)
with_derive=$(seconds with_derive)
printf '%d types, serde derives only: %.2f s\n' "$types" "$serde_only"
printf '%d types, serde + CosmosDocument: %.2f s\n' "$types" "$with_derive"
printf 'ratio: %.2fx\n' "$(echo "$with_derive / $serde_only" | bc -l)"
