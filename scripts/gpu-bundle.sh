#!/usr/bin/env bash
# Bundles what the GPU machine needs to run the Vulkan module's tests and benchmark into .gpu/ (ignored by git):
# the module's classes and test classes with its test-scope dependencies (one xz archive of a class folder), the
# JUnit console launcher, Debian's Vulkan validation layer, and stories260K. Use with ../shared/gpu/README.md (.gl and
# .jre); on the GPU machine:
#   source .jre/env.sh; dpkg -x .gpu/vulkan-validationlayers_*.deb /; ldconfig; tar -C /tmp -xJf .gpu/classes.tar.xz
#   $JAVA $JAVA_OPTS -Dinnerq.vulkan.validation=true -Dinnerq.models.dir=$PWD/.gpu/models \
#     -jar .gpu/junit-platform-console-standalone-*.jar execute -cp /tmp/classes --select-class io.innerq.vulkan.<Tests>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/java-env.sh
source scripts/pack-classes.sh
rm -rf .gpu && mkdir -p .gpu/lib
# package, not install: the reactor resolves the modules (every module copies its dependencies to its target/dependency)
./mvnw -B -q -pl innerq-vulkan -am package -DskipTests dependency:copy-dependencies -DincludeScope=test
cp innerq-vulkan/target/dependency/*.jar .gpu/lib/
rm -f .gpu/lib/lwjgl-shaderc*.jar .gpu/lib/junit-*.jar .gpu/lib/opentest4j-*.jar .gpu/lib/apiguardian-*.jar
"$JAVA_HOME/bin/jar" cf .gpu/lib/innerq-vulkan-classes.jar -C innerq-vulkan/target/classes .
"$JAVA_HOME/bin/jar" cf .gpu/lib/innerq-vulkan-tests.jar -C innerq-vulkan/target/test-classes .
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:6.0.3 -DoutputDirectory="$root/.gpu"
(cd /tmp && apt-get -q -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64 download vulkan-validationlayers >/dev/null) \
  && mv /tmp/vulkan-validationlayers_*.deb .gpu/
pack_classes .gpu
mkdir -p .gpu/models && cp "${INNERQ_TEST_MODEL:-../shared/models/stories260K.gguf}" .gpu/models/
du -sh .gpu
