#!/bin/sh
# Prepares what scripts/gpu-check.sh needs on the GPU machine (no Node, npm or internet there) in .gpu-carry/
# (git-ignored): the offline kit (npm run pack) and Debian 12's Vulkan loader and GL dispatch libraries as
# .deb files (apt-get download). Prints what the device run carries; it must stay within 64 MiB.
set -eu
cd "$(dirname "$0")/.."
carry=.gpu-carry
rm -rf "$carry"
mkdir -p "$carry/debs"
npm run --silent pack -- --out "$carry"
(cd "$carry/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
kit=$(du -cb "$carry"/saliencam-*-linux-x64.tar.xz | tail -1 | cut -f1)
debs=$(du -cb "$carry"/debs/*.deb | tail -1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "carried to the GPU machine: kit $(mib "$kit") + debs $(mib "$debs") + working tree $(mib "$tree") = $(mib $((kit + debs + tree))) (limit 64 MiB)"
echo "run there: scripts/gpu-check.sh   (carry: [\"$carry\"]; results in \$OUT)"
