// Package apidoc holds the OpenAPI 3.0 document of the HTTP API and serves
// it at GET /openapi.json, with a browsable page of it at GET /docs.
//
// The document is data, embedded with go:embed: openapi.yaml holds the frame
// and what every endpoint shares (the error envelope, the 400/429/503/500
// responses); every area of the API adds a file under paths/ with its
// `paths:` and `components:`. Document merges them and refuses a name
// defined twice, so areas written in parallel cannot overwrite each other.
//
// Tests validate real responses against the document with package
// apidoc/apidoctest (kin-openapi), which the binary does not link.
package apidoc

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml paths/*.yaml
var files embed.FS

// Document returns the merged document as JSON.
func Document() ([]byte, error) {
	doc, err := load("openapi.yaml")
	if err != nil {
		return nil, err
	}
	parts, err := fs.Glob(files, "paths/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("apidoc: %w", err)
	}
	slices.Sort(parts)
	for _, name := range parts {
		part, err := load(name)
		if err != nil {
			return nil, err
		}
		if err := merge(doc, part, name); err != nil {
			return nil, err
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("apidoc: %w", err)
	}
	return out, nil
}

// MustDocument is Document for wiring: the files are compiled in, and a test
// proves they merge, so a failure is a programming error.
func MustDocument() []byte {
	doc, err := Document()
	if err != nil {
		panic(err)
	}
	return doc
}

// Mount serves the document at GET /openapi.json; pass it to server.New
// (with MountDocs for the browsable page, docs.go).
func Mount(e *gin.Engine) {
	doc := MustDocument()
	e.GET("/openapi.json", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/json", doc)
	})
}

func load(name string) (map[string]any, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("apidoc: %w", err)
	}
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("apidoc: %s: %w", name, err)
	}
	m, ok := stringKeys(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("apidoc: %s: not a mapping", name)
	}
	return m, nil
}

// stringKeys makes every mapping JSON-encodable (YAML allows non-string keys
// such as an unquoted 200).
func stringKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = stringKeys(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
		return t
	default:
		return v
	}
}

// merge adds a paths/ file to the document: its paths and its components,
// section by section. A file may hold nothing else, and no name twice.
func merge(doc, part map[string]any, file string) error {
	for key := range part {
		if key != "paths" && key != "components" {
			return fmt.Errorf("apidoc: %s: top-level %q not allowed in a paths file (only paths, components)", file, key)
		}
	}
	if err := mergeMap(doc, "paths", part["paths"], file, "path"); err != nil {
		return err
	}
	comps, _ := part["components"].(map[string]any)
	if part["components"] != nil && comps == nil {
		return fmt.Errorf("apidoc: %s: components is not a mapping", file)
	}
	if len(comps) == 0 {
		return nil
	}
	dst, _ := doc["components"].(map[string]any)
	if dst == nil {
		dst = map[string]any{}
		doc["components"] = dst
	}
	for section, entries := range comps {
		if err := mergeMap(dst, section, entries, file, "components/"+section); err != nil {
			return err
		}
	}
	return nil
}

func mergeMap(dst map[string]any, key string, src any, file, what string) error {
	if src == nil {
		return nil
	}
	entries, ok := src.(map[string]any)
	if !ok {
		return fmt.Errorf("apidoc: %s: %s is not a mapping", file, key)
	}
	target, _ := dst[key].(map[string]any)
	if target == nil {
		target = map[string]any{}
		dst[key] = target
	}
	for name, v := range entries {
		if _, dup := target[name]; dup {
			return fmt.Errorf("apidoc: %s: %s %q is already defined", file, what, name)
		}
		target[name] = v
	}
	return nil
}
