// Command nsm-test-registry is the test bed's OCI registry and its client, one binary:
//
//	nsm-test-registry serve CONFIG          the CNCF registry (github.com/distribution/distribution/v3)
//	                                        with the filesystem storage driver and htpasswd auth only
//	nsm-test-registry htpasswd FILE USER    writes FILE (0600) with USER's bcrypt hash; password on stdin
//	nsm-test-registry publish [FILE|-]      pushes the test image of every reference listed (one a line),
//	                                        skipping those already there with the same digest
//	nsm-test-registry push REF [--platforms linux/amd64,...]   pushes (replaces) REF's test image
//	nsm-test-registry delete REF            deletes a tag (REF:tag) or a manifest (REF@sha256:...)
//	nsm-test-registry tags REPO             lists REPO's tags, one a line
//	nsm-test-registry inspect REF           prints {"digest","mediaType","platforms"} of what REF names
//
// The client commands read NSM_REGISTRY (host:port/path), NSM_REGISTRY_USERNAME, NSM_REGISTRY_PASSWORD and
// NSM_REGISTRY_CA from the environment (`source .cluster/env`); a REF without a host is taken under
// NSM_REGISTRY (`nginx-mesh-sidecar:2.0.0` is "$NSM_REGISTRY/nginx-mesh-sidecar:2.0.0"). Exit 1 on any
// failure, with the registry's answer on stderr. Nothing here prints the password.
//
// CLUSTER-NOTES: the registry is linked in (like test/cluster/etcd) rather than taken from its own
// cmd/registry, which pulls every cloud storage driver; only the drivers named below are compiled.
package main

import (
	"fmt"
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

const usage = `usage: nsm-test-registry serve CONFIG | htpasswd FILE USER | publish [FILE|-] |
       push REF [--platforms os/arch,...] | delete REF | tags REPO | inspect REF`

func main() {
	if len(os.Args) < 2 {
		fail(usage)
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "serve", "garbage-collect":
		registry.RootCmd.SetArgs(os.Args[1:])
		err = registry.RootCmd.Execute()
	case "htpasswd":
		err = writeHtpasswd(args)
	case "publish":
		err = publish(args)
	case "push":
		err = push(args)
	case "delete":
		err = deleteRef(args)
	case "tags":
		err = listTags(args)
	case "inspect":
		err = inspect(args)
	case "-h", "--help", "help":
		fmt.Println(usage)
	default:
		fail(usage)
	}
	if err != nil {
		fail(fmt.Sprintf("nsm-test-registry %s: %v", os.Args[1], err))
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
