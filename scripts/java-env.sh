# Sourced by ./innerq, ./mvnw and the project's scripts (POSIX sh): exports JAVA_HOME for a JDK 25 or newer, whatever
# `java` is on PATH: JAVA_HOME if it is one, else the first found under /usr/lib/jvm, else the `java` on PATH.
innerq_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1
}
innerq_is_jdk25() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ "$(innerq_java_major "$1")" -ge 25 ] 2>/dev/null
}
if [ -z "${JAVA_HOME:-}" ] || ! innerq_is_jdk25 "$JAVA_HOME"; then
  innerq_looked="${JAVA_HOME:+JAVA_HOME=$JAVA_HOME, }/usr/lib/jvm/*"
  innerq_path_java=$(command -v java 2>/dev/null || true)
  innerq_found=
  for innerq_candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64 \
                          /usr/lib/jvm/jdk-25* /usr/lib/jvm/*25* /usr/lib/jvm/* \
                          ${innerq_path_java:+"$(dirname "$(dirname "$(readlink -f "$innerq_path_java")")")"}; do
    if innerq_is_jdk25 "$innerq_candidate"; then
      innerq_found=$innerq_candidate
      break
    fi
  done
  if [ -z "$innerq_found" ]; then
    echo "innerq needs a JDK 25 or newer and found none (looked at ${innerq_looked}${innerq_path_java:+ and $innerq_path_java}): install one (e.g. Temurin 25) and set JAVA_HOME to it" >&2
    exit 1
  fi
  JAVA_HOME=$innerq_found
  export JAVA_HOME
fi
