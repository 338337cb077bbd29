# syntax=docker/dockerfile:1
# The InnerQ service: the application jar on a jlinked Java 25 runtime, as a non-root user, with the Vulkan loader
# for NVIDIA GPUs. docs/deploy.md describes building and running it.
#   docker build -t innerq:0.1.0 .

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -ntp -DskipTests -pl innerq-app/innerq-server -am package \
 && cp innerq-app/innerq-server/target/innerq-server.jar /innerq-server.jar
# The modules the service uses, the Vector API (an incubator module) included.
ARG MODULES=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,java.desktop,\
java.instrument,java.security.jgss,jdk.crypto.ec,jdk.management,jdk.unsupported,jdk.incubator.vector,jdk.httpserver
RUN jlink --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output /jre

FROM debian:bookworm-slim
# The Vulkan loader, and the X libraries NVIDIA's Vulkan driver (libGLX_nvidia.so.0) links against. The driver itself
# and its ICD file are mounted by the NVIDIA container toolkit when the graphics capability is asked for. The user's
# home is /tmp, the one writable place under a read-only root file system.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvulkan1 libx11-6 libxext6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 innerq \
 && useradd --system --uid 10001 --gid innerq --home-dir /tmp --no-create-home --shell /usr/sbin/nologin innerq
COPY --from=build /jre /opt/java
COPY --from=build /innerq-server.jar /app/innerq-server.jar
ENV JAVA_HOME=/opt/java \
    PATH=/opt/java/bin:$PATH \
    INNERQ_MODEL_PATH=/models
WORKDIR /app
USER 10001:10001
EXPOSE 8080
# The flags of the ./innerq launcher; more JVM options through JDK_JAVA_OPTIONS.
ENTRYPOINT ["java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", \
            "-XX:+UseParallelGC", "-Xss4m", "-Dorg.lwjgl.system.stackSize=4096", "-jar", "/app/innerq-server.jar"]
# Every address, not the command line's loopback: the service then needs API keys (INNERQ_API_KEYS).
CMD ["serve", "--host=0.0.0.0"]
