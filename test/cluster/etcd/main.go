// Command etcd is the etcd server used by the local test cluster. Debian's etcd
// is too old for current kube-apiservers, and `go install go.etcd.io/etcd/...`
// fails on etcd's replace directives, so we build the server from its module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
