#!/usr/bin/env bash
# Builds the test bed's registry (test/cluster/registry: the CNCF registry github.com/distribution/distribution/v3
# plus its test client over oras-go) from the Go modules pinned in registry/go.mod and go.sum, into the same
# cache as the cluster's binaries, keyed by a hash of its sources, so later runs and CI on the same machine
# reuse it. Prints the binary's path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/registry"
cache_root=${NSM_UPGRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nsm-upgrade}
key=$(cd "$src" && cat go.mod go.sum $(LC_ALL=C ls *.go) | sha256sum | cut -c1-16)
version=$(awk '$1=="github.com/distribution/distribution/v3"{print $2}' "$src/go.mod")
out="$cache_root/registry-$version-$key"
if [ -x "$out/nsm-test-registry" ]; then echo "$out/nsm-test-registry"; exit 0; fi
echo "test registry: building distribution $version into $out (cold: downloads ~280 MB of modules, 1.5 CPU-minutes; 1-6 minutes on 2 shared cores)" >&2
start=$(date +%s)
tmp="$out.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
# -modcacherw: the module cache stays removable; GOFLAGS from the user's environment would change the build.
(cd "$src" && GOFLAGS=-modcacherw CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/nsm-test-registry" .) ||
  { echo "test registry: go build failed" >&2; exit 1; }
rm -rf "$out"; mv "$tmp" "$out"
echo "test registry: built in $(( $(date +%s) - start ))s" >&2
echo "$out/nsm-test-registry"
