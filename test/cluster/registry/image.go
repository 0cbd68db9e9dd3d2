package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// defaultPlatforms are the platforms of every published test image: the test bed's KWOK nodes say
// linux/amd64, and a multi-platform index is what a real mirror of the vendor's images holds.
var defaultPlatforms = []ocispec.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}

// node is one piece of content: its descriptor and its bytes.
type node struct {
	desc ocispec.Descriptor
	data []byte
}

// testImage is the test image of `id` (repository path and tag, e.g. "nsm/nginx-mesh-api:2.0.0"): an OCI
// image index with one OCI image manifest per platform, each with a tiny config and one gzip layer
// holding the file /nsm-test-image ("<id> <os>/<arch>"). Every piece is addressed by its sha256 (the
// config's diff_id is the uncompressed tar's), and the bytes are deterministic: the same id always has
// the same digest (publish compares digests), and every tag has its own (deleting one tag's manifest by
// digest leaves the repository's other tags alone). The pieces come in push order, children first:
// the index is the last.
func testImage(id string, platforms []ocispec.Platform) ([]node, error) {
	var nodes []node
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, p := range platforms {
		pieces, err := platformImage(id, p)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, pieces...)
		manifest := pieces[len(pieces)-1].desc
		platform := p
		manifest.Platform = &platform
		index.Manifests = append(index.Manifests, manifest)
	}
	root, err := jsonNode(ocispec.MediaTypeImageIndex, index)
	return append(nodes, root), err
}

// platformImage is one platform's layer, config and manifest, in that order.
func platformImage(id string, p ocispec.Platform) ([]node, error) {
	layerTar, err := tarOf("nsm-test-image", []byte(fmt.Sprintf("%s %s\n", id, platformString(p))))
	if err != nil {
		return nil, err
	}
	layerGz, err := gzipOf(layerTar)
	if err != nil {
		return nil, err
	}
	layer := node{content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, layerGz), layerGz}
	config, err := jsonNode(ocispec.MediaTypeImageConfig, ocispec.Image{
		Platform: p,
		Config:   ocispec.ImageConfig{Cmd: []string{"/nsm-test-image"}, Labels: map[string]string{"io.nsm-upgrade.test-image": id}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layerTar)}},
	})
	if err != nil {
		return nil, err
	}
	manifest, err := jsonNode(ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: config.desc, Layers: []ocispec.Descriptor{layer.desc},
	})
	return []node{layer, config, manifest}, err
}

func jsonNode(mediaType string, v any) (node, error) {
	raw, err := json.Marshal(v)
	return node{content.NewDescriptorFromBytes(mediaType, raw), raw}, err
}

// tarOf is a one-file tar with fixed metadata (no times, owners or PAX records that would vary).
func tarOf(name string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	return buf.Bytes(), tw.Close()
}

// gzipOf compresses with no name or time in the header, so the bytes depend on the input only.
func gzipOf(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parsePlatforms reads "linux/amd64,linux/arm64/v8".
func parsePlatforms(list string) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	for _, item := range strings.Split(list, ",") {
		parts := strings.Split(strings.TrimSpace(item), "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("platform %q: expected os/arch or os/arch/variant", item)
		}
		p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
		if len(parts) == 3 {
			p.Variant = parts[2]
		}
		out = append(out, p)
	}
	return out, nil
}
