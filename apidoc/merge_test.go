package apidoc

import (
	"strings"
	"testing"
)

func TestMergeRefusesOverwrites(t *testing.T) {
	doc := func() map[string]any {
		return map[string]any{
			"paths":      map[string]any{"/healthz": map[string]any{}},
			"components": map[string]any{"schemas": map[string]any{"Error": map[string]any{}}},
		}
	}
	tests := []struct {
		part map[string]any
		want string // "" means it merges
	}{
		{map[string]any{"paths": map[string]any{"/v1/records": map[string]any{}}, "components": map[string]any{"schemas": map[string]any{"Record": map[string]any{}}, "securitySchemes": map[string]any{"bearer": map[string]any{}}}}, ""},
		{map[string]any{"paths": map[string]any{"/healthz": map[string]any{}}}, `path "/healthz" is already defined`},
		{map[string]any{"components": map[string]any{"schemas": map[string]any{"Error": map[string]any{}}}}, `components/schemas "Error" is already defined`},
		{map[string]any{"info": map[string]any{}}, `top-level "info" not allowed`},
		{map[string]any{"paths": []any{}}, "paths is not a mapping"},
	}
	for _, tt := range tests {
		d := doc()
		err := merge(d, tt.part, "paths/x.yaml")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("merge(%v): %v", tt.part, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("merge(%v) = %v, want %q", tt.part, err, tt.want)
		}
		if tt.want == "" {
			if d["paths"].(map[string]any)["/v1/records"] == nil || d["components"].(map[string]any)["securitySchemes"] == nil {
				t.Errorf("merged document lacks the new entries: %v", d)
			}
		}
	}
}

func TestStringKeys(t *testing.T) {
	got := stringKeys(map[any]any{200: map[any]any{"a": []any{map[any]any{true: 1}}}})
	m, ok := got.(map[string]any)
	if !ok || m["200"] == nil {
		t.Fatalf("stringKeys = %#v", got)
	}
	inner := m["200"].(map[string]any)["a"].([]any)[0].(map[string]any)
	if inner["true"] != 1 {
		t.Errorf("nested = %#v", inner)
	}
}
