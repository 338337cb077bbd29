#!/usr/bin/env bash
# Bundles what the GPU machine needs to run `innerq synth` and `innerq bench step` into .gpu-bench/ (ignored by git):
# the command line's classes and the jars those commands load (no Spring), and the larger shared model, compressed.
# Use with ../shared/gpu/README.md (.gl and .jre); the command is in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
rm -rf .gpu-bench && mkdir -p .gpu-bench/lib
./mvnw -B -q -o install -DskipTests
cp innerq-domain/target/innerq-domain-*-SNAPSHOT.jar innerq-cpu/target/innerq-cpu-*.jar \
  innerq-vulkan/target/innerq-vulkan-*.jar .gpu-bench/lib/
rm -f .gpu-bench/lib/*-tests.jar
"$JAVA_HOME/bin/jar" cf .gpu-bench/lib/innerq-app-classes.jar -C innerq-app/target/classes .
./mvnw -B -q -o -pl innerq-vulkan dependency:copy-dependencies -DincludeScope=runtime -DincludeGroupIds=org.lwjgl \
  -DoutputDirectory="$root/.gpu-bench/lib"
gzip -c "${INNERQ_LARGER_MODEL:-../shared/models/storybooks-18M-hd128.gguf}" > .gpu-bench/storybooks-18M-hd128.gguf.gz
du -sh .gpu-bench
