# Sourced by the GPU bundle scripts. pack_classes DIR: unpacks every jar in DIR/lib into one class folder, archives it
# as DIR/classes.tar.xz (a quarter of the jars' size, so that a bundle fits a device call) and removes DIR/lib.
# On the GPU machine: tar -C /tmp -xJf DIR/classes.tar.xz, then -cp /tmp/classes.
pack_classes() {
  local dir=$1 work
  work=$(mktemp -d)
  mkdir "$work/classes"
  local jar abs
  for jar in "$dir"/lib/*.jar; do
    abs=$(realpath "$jar")
    (cd "$work/classes" && unzip -oq "$abs")
  done
  rm -f "$work"/classes/META-INF/*.SF "$work"/classes/META-INF/*.RSA
  tar -cJf "$dir/classes.tar.xz" -C "$work" classes
  rm -rf "$work" "$dir/lib"
}
