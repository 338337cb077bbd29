#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: prepares what the tests need, runs the Maven build with all
# module tests, builds and tests the example application against the installed starter, then checks the `innerq`
# launcher, command line and service end to end. Needs nothing beside the checkout; the larger shared models
# (../shared/models) add the tests that use them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
source scripts/vulkan-env.sh

./mvnw -B -ntp install "$@"

# A Spring Boot application of its own that depends on the installed starter, as a user's would.
./mvnw -B -ntp -f examples/chat-app/pom.xml verify

scripts/e2e.sh

if [[ ! -d ../shared/models ]]; then
  echo "note: no ../shared/models beside this checkout: the tests that need its larger models and texts were skipped (each says so)"
fi
