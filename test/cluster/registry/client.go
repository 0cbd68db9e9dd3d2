package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// client is the registry of NSM_REGISTRY with the test bed's credentials and CA, reached over TLS only.
type client struct {
	host   string // 127.0.0.1:PORT
	prefix string // host/path of NSM_REGISTRY, the home of references without a host
	http   *auth.Client
}

func newClient() (*client, error) {
	mirror := strings.TrimSuffix(os.Getenv("NSM_REGISTRY"), "/")
	user, password, caFile := os.Getenv("NSM_REGISTRY_USERNAME"), os.Getenv("NSM_REGISTRY_PASSWORD"), os.Getenv("NSM_REGISTRY_CA")
	if mirror == "" || caFile == "" {
		return nil, errors.New("NSM_REGISTRY and NSM_REGISTRY_CA are not set: run `source .cluster/env` after `npm run cluster:up`")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("NSM_REGISTRY_CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("NSM_REGISTRY_CA %s: no PEM certificate in it", caFile)
	}
	host, _, _ := strings.Cut(mirror, "/")
	// A transport of its own: no proxy (the registry is on loopback), the test bed's CA only.
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	cred := auth.EmptyCredential
	if user != "" || password != "" {
		cred = auth.Credential{Username: user, Password: password}
	}
	return &client{host: host, prefix: mirror, http: &auth.Client{
		Client:     &http.Client{Transport: transport, Timeout: 30 * time.Second},
		Credential: auth.StaticCredential(host, cred),
		Cache:      auth.NewCache(),
	}}, nil
}

// parse reads a reference as docker does: one whose first element is not a host (no '.' or ':', not
// localhost) is taken under NSM_REGISTRY, and one without a tag or digest means the tag "latest".
func (c *client) parse(ref string) (registry.Reference, error) {
	first, rest, hasSlash := strings.Cut(ref, "/")
	if !hasSlash || rest == "" || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		ref = c.prefix + "/" + ref
	}
	r, err := registry.ParseReference(ref)
	if err != nil {
		return r, err
	}
	if r.Reference == "" {
		r.Reference = "latest"
	}
	if r.Registry != c.host {
		return r, fmt.Errorf("%s is not in NSM_REGISTRY (%s): this tool only talks to the test bed's registry", ref, c.prefix)
	}
	return r, nil
}

// repo is the repository of a reference; PlainHTTP stays false: the registry speaks TLS only.
func (c *client) repo(r registry.Reference) *remote.Repository {
	return &remote.Repository{Reference: registry.Reference{Registry: r.Registry, Repository: r.Repository}, Client: c.http, PlainHTTP: false}
}

// id is what a test image is built from: the reference without its host ("nsm/nginx-mesh-api:2.0.0").
func id(r registry.Reference) string { return r.Repository + ":" + r.Reference }

func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
