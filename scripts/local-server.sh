#!/usr/bin/env bash
# Installs (npm ci, from the committed lockfile) and runs the local Cosmos DB-compatible server
# used by the tests, on https://127.0.0.1:PORT/ (default 8081). It prints
# {"endpoint":"https://127.0.0.1:PORT/"} once it accepts connections, and stops on Ctrl-C, after
# an hour, or when the shell that started it exits. Any account key is accepted.
#
#   ./scripts/local-server.sh            # port 8081
#   ./scripts/local-server.sh --port 0   # any free port
set -euo pipefail
cd "$(dirname "$0")/../tests/server"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing Node.js and npm" >&2
    apt-get update -qq >&2 && apt-get install -y -qq nodejs npm >&2
fi
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi

port=8081
if [[ "${1:-}" == "--port" ]]; then
    port="${2:?usage: local-server.sh [--port N]}"
fi
exec node launcher.js --port "$port" --max-seconds 3600
