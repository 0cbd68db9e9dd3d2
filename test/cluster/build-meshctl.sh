#!/usr/bin/env bash
# Builds the vendor's real nginx-meshctl for each version whose source is in the shared reference
# (../shared/nsm-reference/meshctl-src/<version>, or $NSM_MESHCTL_SRC), into the same cache as the
# cluster binaries, keyed by a hash of that source tree. The source is never copied into this
# repository: Go reads it where it is (dependencies come from the Go module proxy).
#   bash test/cluster/build-meshctl.sh            prints "<version> <path>" per built binary
# Versions without source (1.6.0) keep their stand-in (test/fixtures/meshctl/<version>).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src_root=${NSM_MESHCTL_SRC:-$repo/../shared/nsm-reference/meshctl-src}
cache_root=${NSM_UPGRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nsm-upgrade}
if [ ! -d "$src_root" ]; then
  echo "real nginx-meshctl: no source at $src_root; the test bed uses the stand-ins only" >&2
  exit 0
fi
src_root=$(cd "$src_root" && pwd)
for dir in "$src_root"/*/; do
  version=$(basename "$dir")
  [ -f "$dir/go.mod" ] && [ -d "$dir/cmd/nginx-meshctl" ] || continue
  key=$(cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  out="$cache_root/meshctl-$version-$key"
  if [ ! -x "$out/nginx-meshctl" ]; then
    echo "real nginx-meshctl $version: building from $dir into $out (a cold build downloads its modules: a few minutes)" >&2
    start=$(date +%s)
    tmp="$out.tmp.$$"
    mkdir -p "$tmp"
    # -modcacherw: the module cache stays removable; GOFLAGS from the user's environment would change the build.
    if ! (cd "$dir" && GOFLAGS=-modcacherw CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=$version -X main.commit=reference -X main.pkgName=nginx-meshctl" \
        -o "$tmp/nginx-meshctl" ./cmd/nginx-meshctl); then
      rm -rf "$tmp"
      echo "real nginx-meshctl $version: go build failed" >&2
      exit 1
    fi
    rm -rf "$out"; mv "$tmp" "$out"
    echo "real nginx-meshctl $version: built in $(( $(date +%s) - start ))s" >&2
  fi
  got=$("$out/nginx-meshctl" version 2>/dev/null | head -n 1 || true)
  case "$got" in
    "nginx-meshctl - v$version"*) ;;
    *) echo "real nginx-meshctl $version: $out/nginx-meshctl says '$got'" >&2; exit 1 ;;
  esac
  echo "$version $out/nginx-meshctl"
done
