#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: prepares what the tests need, then the Maven build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
./mvnw -B -ntp verify "$@"
