# Sourced by scripts/test.sh: makes sure a Vulkan loader, Mesa's CPU driver (lavapipe) and the Khronos validation
# layer are installed, installing the Debian packages when they are missing (as root, or through sudo). The Vulkan
# tests run on whatever device is found, with validation on, and fail (never skip) without one.
vulkan_packages=(libvulkan1 mesa-vulkan-drivers vulkan-validationlayers)
vulkan_missing=()
for p in "${vulkan_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || vulkan_missing+=("$p")
done
if (( ${#vulkan_missing[@]} > 0 )); then
  echo "installing Vulkan packages for the GPU adapter's tests: ${vulkan_missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${vulkan_missing[@]}" >/dev/null
fi
