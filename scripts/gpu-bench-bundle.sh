#!/usr/bin/env bash
# Bundles what the GPU machine needs to run `innerq synth` and `innerq bench step` into .gpu-bench/ (ignored by git):
# the classes of the command line and of the jars those commands load (no Spring), as one xz archive of a class
# folder (a quarter of the jars' size), and the larger shared model, compressed: with .gl and .jre
# (../shared/gpu/README.md) it stays under what a device call carries. The command is in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
source scripts/pack-classes.sh
rm -rf .gpu-bench && mkdir -p .gpu-bench/lib
./mvnw -B -q -o install -DskipTests
cp innerq-domain/target/innerq-domain-*-SNAPSHOT.jar innerq-cpu/target/innerq-cpu-*.jar \
  innerq-vulkan/target/innerq-vulkan-*.jar .gpu-bench/lib/
rm -f .gpu-bench/lib/*-tests.jar
"$JAVA_HOME/bin/jar" cf .gpu-bench/lib/innerq-server-classes.jar -C innerq-app/innerq-server/target/classes .
cp innerq-app/innerq-serving/target/innerq-serving-*.jar .gpu-bench/lib/
./mvnw -B -q -o -pl innerq-vulkan dependency:copy-dependencies -DincludeScope=runtime -DincludeGroupIds=org.lwjgl \
  -DoutputDirectory="$root/.gpu-bench/lib"
gzip -c "${INNERQ_LARGER_MODEL:-../shared/models/storybooks-18M-hd128.gguf}" > .gpu-bench/storybooks-18M-hd128.gguf.gz
pack_classes .gpu-bench
du -sh .gpu-bench
