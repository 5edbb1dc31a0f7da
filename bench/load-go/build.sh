#!/usr/bin/env bash
# Builds the bench's Go load generator offline, against Debian's packages only (no module
# proxy, no network): golang-go (Go 1.19) and golang-etcd-server-dev (etcd 3.4's Go client and
# its dependencies under /usr/share/gocode). The binary goes to bench/load-go/bin/ (gitignored).
#   bash bench/load-go/build.sh          # build; prints the binary's path
#   bash bench/load-go/build.sh --test   # also go vet and the unit tests (histogram, error kinds)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode
command -v go >/dev/null || { echo "load-go needs Go: apt-get install -y golang-go" >&2; exit 2; }
[ -d "$gocode/src/go.etcd.io/etcd/clientv3" ] || { echo "load-go needs etcd's Go client: apt-get install -y golang-etcd-server-dev" >&2; exit 2; }
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
# GOPATH mode resolves every import under /usr/share/gocode; GOPROXY=off makes sure nothing
# is ever fetched. Go's build cache keeps a rebuild with no change to a few seconds.
export GO111MODULE=off GOPATH="$gocode:$gopath" GOPROXY=off GOFLAGS=
cd "$here"
if [ "${1:-}" = "--test" ]; then
  go vet . >&2
  go test . >&2
fi
go build -o "$here/bin/load-go" .
echo "$here/bin/load-go"
