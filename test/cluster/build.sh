#!/usr/bin/env bash
# Builds the local test cluster's binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, etcd) from the Go modules pinned in go.mod/go.sum,
# into a cache outside the clone keyed by those files, so later runs and CI on the
# same machine reuse them. Prints the cache's bin directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${NSM_UPGRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nsm-upgrade}
key=$(cat "$here/go.mod" "$here/go.sum" "$here/etcd/main.go" | sha256sum | cut -c1-16)
k8s_version=$(awk '$1=="k8s.io/kubernetes"{print $2}' "$here/go.mod")
bin="$cache_root/cluster-$k8s_version-$key/bin"
tools="kube-apiserver kube-controller-manager kube-scheduler kubectl kwok etcd"
missing=0
for t in $tools; do [ -x "$bin/$t" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "cluster binaries: cached in $bin" >&2; echo "$bin"; exit 0; fi

minor=$(echo "$k8s_version" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
tmp="$bin.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "cluster binaries: building Kubernetes $k8s_version, kwok and etcd into $bin" >&2
echo "  (a cold build takes tens of minutes on 2 cores; progress: packages compiled)" >&2
cd "$here"
export CGO_ENABLED=0
start=$(date +%s)
# One go build for all binaries, so shared packages compile once. -v names each package as it builds.
go build -v -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
  sigs.k8s.io/kwok/cmd/kwok ./etcd 2>&1 |
  awk -v start="$start" '{ n++; if (n % 100 == 0) { printf "  %d packages compiled (%ds)\n", n, systime()-start > "/dev/stderr"; fflush("/dev/stderr") } }
       /^[^ ]+\.go:[0-9]|^# |^go: / { print > "/dev/stderr" }'
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || { echo "cluster binaries: go build failed (exit $rc)" >&2; exit "$rc"; }
for t in $tools; do [ -x "$tmp/$t" ] || { echo "cluster binaries: $t missing after build" >&2; exit 1; }; done
mkdir -p "$(dirname "$bin")"
rm -rf "$bin"; mv "$tmp" "$bin"
echo "cluster binaries: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
