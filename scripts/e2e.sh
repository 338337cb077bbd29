#!/usr/bin/env bash
# End-to-end checks of what a user runs: the ./innerq launcher (rebuilds when sources change, hides the JVM's
# incubator warning), ./mvnw under any JDK on PATH, `innerq generate` on the CPU and Vulkan backends, `innerq serve`
# answering a chat completion with the embedded default model, and, when ../shared/models is there, the larger model
# on both backends. Run by scripts/test.sh after the build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
fail() { echo "end-to-end check FAILED: $*" >&2; exit 1; }
pass() { echo "end-to-end check passed: $*"; }

# ./mvnw finds a JDK 25 whatever JAVA_HOME and PATH say.
jdk17=$(ls -d /usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -1 || true)
if [[ -n "$jdk17" ]]; then
  version=$(JAVA_HOME="$jdk17" PATH="$jdk17/bin:$PATH" ./mvnw -v 2>&1 | sed -n 's/^Java version: \([0-9]*\).*/\1/p')
  [[ "$version" -ge 25 ]] || fail "./mvnw with JDK 17 as JAVA_HOME and on PATH ran on Java '$version'"
  pass "./mvnw with JDK 17 as JAVA_HOME and on PATH runs Maven on Java $version"
fi

# The launcher rebuilds after a source changed, and not again; users never see the incubator warning.
touch innerq-app/innerq-server/src/main/java/io/innerq/cli/Cli.java
first=$(./innerq help 2>&1 >/dev/null)
[[ "$first" == *"the sources changed since the last build"* ]] || fail "./innerq did not rebuild after a source changed: $first"
second=$(./innerq help 2>&1 >/dev/null)
[[ -z "$second" ]] || fail "./innerq help printed on stderr after the rebuild: $second"
pass "./innerq rebuilds when a source is newer than its build, then starts without a build or a JVM warning"

# A user's mistake at start is one line on stderr and no stack trace anywhere, in the launcher's own shape.
truncated=$(mktemp --suffix=.gguf)
head -c 600000 models/stories260K.gguf > "$truncated"
for mistake in "--host 0.0.0.0" "--model $truncated" "--prot 9000" "--kv-budget lots"; do
  set +e; output=$(./innerq serve --port 0 $mistake 2>&1); status=$?; set -e
  [[ $status -ne 0 && "$output" != *$'\tat '* && "$output" != *"APPLICATION FAILED"* && "$output" == *"innerq: "* ]] \
    || fail "./innerq serve $mistake (exit $status) printed: $output"
done
rm -f "$truncated"
pass "./innerq serve refuses a start without API keys beyond loopback, a truncated model and bad options without a stack trace"

# The embedded default model (no --model): the reference greedy text of stories260K on both backends.
expected=$'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily'
for backend in cpu vulkan; do
  actual=$(./innerq generate --prompt "Once upon a time" --temperature 0 --backend $backend 2>/dev/null)
  [[ "$actual" == "$expected" ]] || fail "./innerq generate --backend $backend printed: $actual"
  pass "./innerq generate --backend $backend printed the reference text"
done

# The service on the default model answers a chat completion (on a free port, read from its log).
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
log=$(mktemp)
./innerq serve --port 0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
port=
for _ in $(seq 1 240); do
  port=$(sed -n 's/.*Tomcat started on port \([0-9]*\).*/\1/p' "$log" | head -1)
  [[ -n "$port" ]] && curl -sf "http://127.0.0.1:$port/actuator/health/readiness" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || fail "./innerq serve exited: $(cat "$log")"
  sleep 0.5
done
[[ -n "$port" ]] || fail "./innerq serve did not start within 2 minutes: $(tail -5 "$log")"
reply=$(curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 12, "temperature": 0}') \
  || fail "POST /v1/chat/completions failed: $(tail -5 "$log")"
[[ "$reply" == *'"content":", there was a little girl named Lily'* ]] || fail "the chat completion was: $reply"
pass "./innerq serve (embedded stories260K) answered POST /v1/chat/completions"
kill $server; wait $server 2>/dev/null || true
trap - EXIT; rm -f "$log"

# The larger trained model: the Vulkan backend's greedy text equals the CPU backend's.
larger=${INNERQ_TEST_LARGER_MODEL:-../shared/models/storybooks-18M-hd128.gguf}
if [[ ! -f "$larger" ]]; then
  echo "skipped: the larger model's end-to-end check (no $larger)"
  exit 0
fi
for kv in fp16 innerq-base; do
  cpu=$(./innerq generate --model "$larger" --prompt "Once upon a time" --temperature 0 --max-tokens 48 --kv $kv --backend cpu 2>/dev/null)
  gpu=$(./innerq generate --model "$larger" --prompt "Once upon a time" --temperature 0 --max-tokens 48 --kv $kv --backend vulkan 2>/dev/null)
  [[ -n "$cpu" && "$cpu" == "$gpu" ]] || fail "$larger ($kv): cpu and vulkan printed different text:
cpu:    $cpu
vulkan: $gpu"
  pass "./innerq generate --backend vulkan printed the cpu backend's text on $(basename "$larger") ($kv)"
done
