#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: prepares what the tests need, runs the Maven build with all
# module tests, then checks the built `innerq` executable end to end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
source scripts/vulkan-env.sh

./mvnw -B -ntp install "$@"

# End to end: the executable a user runs prints the reference greedy text of stories260K.
model=${INNERQ_TEST_MODEL:-../shared/models/stories260K.gguf}
expected=$'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily'
for backend in cpu vulkan; do
  actual=$(./innerq generate --model "$model" --prompt "Once upon a time" --temperature 0 --backend $backend 2>/dev/null)
  if [[ "$actual" != "$expected" ]]; then
    echo "end-to-end check FAILED: ./innerq generate --backend $backend printed:" >&2
    printf '%s\n' "$actual" >&2
    exit 1
  fi
  echo "end-to-end check passed: ./innerq generate --backend $backend printed the reference text"
done

# The larger trained model: the Vulkan backend's greedy text equals the CPU backend's.
larger=${INNERQ_TEST_LARGER_MODEL:-../shared/models/storybooks-18M-hd128.gguf}
for kv in fp16 innerq-base; do
  cpu=$(./innerq generate --model "$larger" --prompt "Once upon a time" --temperature 0 --max-tokens 48 --kv $kv --backend cpu 2>/dev/null)
  gpu=$(./innerq generate --model "$larger" --prompt "Once upon a time" --temperature 0 --max-tokens 48 --kv $kv --backend vulkan 2>/dev/null)
  if [[ -z "$cpu" || "$cpu" != "$gpu" ]]; then
    echo "end-to-end check FAILED on $larger ($kv): the cpu and vulkan backends printed different text:" >&2
    printf 'cpu:    %s\nvulkan: %s\n' "$cpu" "$gpu" >&2
    exit 1
  fi
  echo "end-to-end check passed: ./innerq generate --backend vulkan printed the cpu backend's text on $(basename "$larger") ($kv)"
done
