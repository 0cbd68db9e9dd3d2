package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// pushTestImage pushes the test image of a tag reference; with skipSame, nothing when the tag already
// names the same index (same digest). Reports whether it pushed.
func (c *client) pushTestImage(ctx context.Context, r registry.Reference, platforms []ocispec.Platform, skipSame bool) (bool, error) {
	if _, err := r.Digest(); err == nil || r.Reference == "" {
		return false, fmt.Errorf("%s: give a tag to push (name:tag), not a digest", r)
	}
	nodes, err := testImage(id(r), platforms)
	if err != nil {
		return false, err
	}
	root := nodes[len(nodes)-1]
	repo := c.repo(r)
	if skipSame {
		have, err := repo.Resolve(ctx, r.Reference)
		if err == nil && have.Digest == root.desc.Digest {
			return false, nil
		}
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return false, fmt.Errorf("%s: %w", r, err)
		}
	}
	// Children before parents, without asking what exists first: a registry takes a blob or manifest it
	// already has, and a cold publish then costs 11 requests an image instead of 18.
	for _, n := range nodes[:len(nodes)-1] {
		if err := repo.Push(ctx, n.desc, bytes.NewReader(n.data)); err != nil {
			return false, fmt.Errorf("%s: %w", r, err)
		}
	}
	if err := repo.PushReference(ctx, root.desc, bytes.NewReader(root.data), r.Reference); err != nil {
		return false, fmt.Errorf("%s: %w", r, err)
	}
	return true, nil
}

// oneRef is the client and the one reference a command takes.
func oneRef(args []string, usage string) (*client, registry.Reference, error) {
	if len(args) != 1 {
		return nil, registry.Reference{}, errors.New("usage: " + usage)
	}
	c, err := newClient()
	if err != nil {
		return nil, registry.Reference{}, err
	}
	r, err := c.parse(args[0])
	return c, r, err
}

func push(args []string) error {
	platforms := defaultPlatforms
	var refs []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--platforms" && i+1 < len(args):
			p, err := parsePlatforms(args[i+1])
			if err != nil {
				return err
			}
			platforms, i = p, i+1
		case strings.HasPrefix(args[i], "--platforms="):
			p, err := parsePlatforms(strings.TrimPrefix(args[i], "--platforms="))
			if err != nil {
				return err
			}
			platforms = p
		default:
			refs = append(refs, args[i])
		}
	}
	c, r, err := oneRef(refs, "push REF [--platforms os/arch,...]")
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(time.Minute)
	defer cancel()
	_, err = c.pushTestImage(ctx, r, platforms, false)
	return err
}

// deleteRef deletes a tag (the manifest stays, reachable by digest) or a manifest by digest (with
// every tag of its repository that names it), as the distribution API does for each.
func deleteRef(args []string) error {
	c, r, err := oneRef(args, "delete REF (name:tag or name@sha256:...)")
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(30 * time.Second)
	defer cancel()
	repo := c.repo(r)
	if _, err := r.Digest(); err == nil {
		desc, err := repo.Resolve(ctx, r.Reference) // its errors name the reference
		if err != nil {
			return err
		}
		return repo.Manifests().Delete(ctx, desc)
	}
	u := url.URL{Scheme: "https", Host: r.Registry, Path: "/v2/" + r.Repository + "/manifests/" + r.Reference}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("DELETE %s: %s %s", r, res.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func listTags(args []string) error {
	c, r, err := oneRef(args, "tags REPO")
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(30 * time.Second)
	defer cancel()
	return c.repo(r).Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			fmt.Println(t)
		}
		return nil
	})
}

// inspection is what `inspect` prints: the manifest a reference names and, for an index, its platforms.
type inspection struct {
	Reference string   `json:"reference"`
	Digest    string   `json:"digest"`
	MediaType string   `json:"mediaType"`
	Platforms []string `json:"platforms"`
}

func inspect(args []string) error {
	c, r, err := oneRef(args, "inspect REF")
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(30 * time.Second)
	defer cancel()
	desc, rc, err := c.repo(r).FetchReference(ctx, r.Reference) // its errors name the reference
	if err != nil {
		return err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return err
	}
	if digest.FromBytes(raw) != desc.Digest {
		return fmt.Errorf("%s: the manifest's bytes do not hash to %s", r, desc.Digest)
	}
	out := inspection{Reference: r.String(), Digest: desc.Digest.String(), MediaType: desc.MediaType, Platforms: []string{}}
	if desc.MediaType == ocispec.MediaTypeImageIndex {
		var index ocispec.Index
		if err := json.Unmarshal(raw, &index); err != nil {
			return err
		}
		for _, m := range index.Manifests {
			if m.Platform != nil {
				out.Platforms = append(out.Platforms, platformString(*m.Platform))
			}
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
