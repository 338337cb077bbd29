#!/usr/bin/env bash
# Bundles the whole application for the GPU machine into .gpu-bench/ (ignored by git), so that every command of the
# executable jar runs there (`generate`, `serve`, `synth`, every `bench`): the jar's class folder and each of its
# libraries unpacked into folders of their own (merged folders would lose the Spring and service files that several
# jars ship under one name), archived with xz as innerq.tar.xz (InnerQ's modules) and lib.tar.xz (the rest), with
# the launcher .gpu-bench/innerq. Add models with INNERQ_BUNDLE_MODELS (files, gzipped into the bundle; default
# none). Use with ../shared/gpu/README.md (.gl and .jre); on the GPU machine:
#   source .jre/env.sh; .gpu-bench/innerq bench step --model ...
# (INNERQ_MAIN=io.innerq.vulkan.StepKernelsBenchmark .gpu-bench/innerq ... runs another main class of the bundle.)
# INNERQ_BUNDLE_ONLY_INNERQ=1 leaves lib.tar.xz out (a second build whose libraries equal a first bundle's: the
# launcher takes them from INNERQ_LIB_BUNDLE, a folder holding that lib.tar.xz).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
rm -rf .gpu-bench && mkdir -p .gpu-bench
./mvnw -B -q -o -pl innerq-app/innerq-server -am package -DskipTests
jar=innerq-app/innerq-server/target/innerq-server.jar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && unzip -q "$root/$jar")
mkdir -p "$work/innerq/app" "$work/lib/app"
cp -r "$work/BOOT-INF/classes" "$work/innerq/app/00-classes"
# One folder per library, numbered in the jar's class path order (BOOT-INF/classpath.idx).
i=1
while IFS= read -r line; do
  lib=$(sed -E 's/^- "BOOT-INF\/lib\/(.*)"$/\1/' <<<"$line")
  name=$(printf '%02d-%s' "$i" "${lib%.jar}")
  if [[ $lib == innerq-* ]]; then dest="$work/innerq/app/$name"; else dest="$work/lib/app/$name"; fi
  mkdir -p "$dest"
  (cd "$dest" && unzip -q "$work/BOOT-INF/lib/$lib")
  i=$((i + 1))
done < "$work/BOOT-INF/classpath.idx"
rm -f "$work"/*/app/*/META-INF/*.SF "$work"/*/app/*/META-INF/*.RSA
tar -cJf .gpu-bench/innerq.tar.xz -C "$work/innerq" app
if [[ -z ${INNERQ_BUNDLE_ONLY_INNERQ:-} ]]; then
  tar -cJf .gpu-bench/lib.tar.xz -C "$work/lib" app
fi
for model in ${INNERQ_BUNDLE_MODELS:-}; do
  gzip -c "$model" > ".gpu-bench/$(basename "$model").gz"
done
cat > .gpu-bench/innerq <<'EOF'
#!/usr/bin/env bash
# The innerq command on the GPU machine, from this bundle (after `source .jre/env.sh`, which sets JAVA, JAVA_OPTS).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
app=/tmp/innerq-app-$(basename "$here")
if [[ ! -d $app ]]; then
  mkdir -p "$app.tmp"
  tar -C "$app.tmp" -xJf "$here/innerq.tar.xz"
  tar -C "$app.tmp" -xJf "${INNERQ_LIB_BUNDLE:-$here}/lib.tar.xz"
  for gz in "$here"/*.gguf.gz; do [[ -e $gz ]] && gunzip -c "$gz" > "$here/$(basename "$gz" .gz)"; done
  mv "$app.tmp" "$app"
fi
cp=$(find "$app/app" -mindepth 1 -maxdepth 1 -type d | sort | paste -sd:)
exec "$JAVA" $JAVA_OPTS -Xss4m -XX:+UseParallelGC ${INNERQ_JAVA_OPTS:-} -cp "$cp" "${INNERQ_MAIN:-io.innerq.cli.InnerqMain}" "$@"
EOF
chmod +x .gpu-bench/innerq
du -sh .gpu-bench/*
