#!/usr/bin/env bash
# Builds wsstorm's release binaries: static (cgo off, so they run on any
# Linux, musl or glibc, and in distroless images), with -trimpath (no paths
# of the build machine in them) and the version set with -ldflags, for
# linux and darwin on amd64 and arm64, with their SHA-256 sums.
#
#   scripts/release.sh [VERSION [DIR]]
#
# VERSION defaults to `git describe --tags --always --dirty`; DIR, where the
# binaries go as wsstorm-VERSION-OS-ARCH, to dist/VERSION. .ci/run builds
# them too, so they stay buildable.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
case $version in
  "" | */* | *[[:space:]]*)
    echo "scripts/release.sh: version \"$version\" is empty or has a / or a space: give one such as v0.1.0" >&2
    exit 2 ;;
esac
out=${2:-dist/$version}
mkdir -p "$out"

for platform in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
  os=${platform%/*} arch=${platform#*/}
  bin="$out/wsstorm-$version-$os-$arch"
  echo "== $bin"
  # -buildvcs=auto: a GOFLAGS of -buildvcs=false would leave out the commit
  # that `wsstorm version` shows.
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=auto \
    -ldflags "-s -w -X main.version=$version" -o "$bin" ./cmd/wsstorm
done

# macOS has shasum, not sha256sum.
sum=(sha256sum)
command -v sha256sum >/dev/null || sum=(shasum -a 256)
(cd "$out" && "${sum[@]}" wsstorm-"$version"-* > SHA256SUMS)
echo "== $out/SHA256SUMS"
