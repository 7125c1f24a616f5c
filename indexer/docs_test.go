package indexer_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/indexer"
)

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("가", indexer.ExcerptRunes+5)
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", ""},
		{"short body whole", "밤마다 기침", "밤마다 기침"},
		{"whitespace folded to one line", "  밤마다\n\n기침\t해요 ", "밤마다 기침 해요"},
		{"exactly the limit", strings.Repeat("가", indexer.ExcerptRunes), strings.Repeat("가", indexer.ExcerptRunes)},
		{"cut by runes, not bytes", long, strings.Repeat("가", indexer.ExcerptRunes) + "…"},
		{"no trailing space before the ellipsis", strings.Repeat("가", indexer.ExcerptRunes-1) + " 나다", strings.Repeat("가", indexer.ExcerptRunes-1) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := indexer.Excerpt(tt.body); got != tt.want {
				t.Errorf("Excerpt(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestPostDoc(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	visible := indexer.PostRow{ID: 7, UserID: 3, AuthorNickname: "숨쉬는고래", AuthorStatus: "active", Category: "질문",
		Title: "천식이 심해요", Body: "밤마다\n기침을 해요", Status: "visible", CreatedAt: now, UpdatedAt: now}
	with := func(f func(*indexer.PostRow)) indexer.PostRow { r := visible; f(&r); return r }

	doc, ok, err := indexer.PostDoc(visible)
	if err != nil || !ok {
		t.Fatalf("PostDoc(visible) = %v, %v", ok, err)
	}
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{"id": 7.0, "user_id": 3.0, "body": "밤마다\n기침을 해요", "excerpt": "밤마다 기침을 해요", "title": "천식이 심해요"} {
		if d[field] != want {
			t.Errorf("%s = %v, want %v", field, d[field], want)
		}
	}

	hidden := map[string]indexer.PostRow{
		"hidden post":    with(func(r *indexer.PostRow) { r.Status = "hidden" }),
		"deleted post":   with(func(r *indexer.PostRow) { r.DeletedAt = &now }),
		"blocked author": with(func(r *indexer.PostRow) { r.AuthorStatus = "blocked" }),
		"deleted author": with(func(r *indexer.PostRow) { r.AuthorDeleted = true }),
	}
	for name, r := range hidden {
		if doc, ok, err := indexer.PostDoc(r); ok || doc != nil || err != nil {
			t.Errorf("%s: PostDoc = %s, %v, %v; want not searchable", name, doc, ok, err)
		}
	}
}

// BenchmarkPostDoc is the per-row cost of the builder, which the CDC worker
// and reindex pay for every document on the same cores as the engine.
func BenchmarkPostDoc(b *testing.B) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r := indexer.PostRow{ID: 7, UserID: 3, AuthorNickname: "숨쉬는고래", AuthorStatus: "active", Category: "질문",
		Title: "아이의 천식이 밤에 심해져요", Body: strings.Repeat("흡입기를 쓰고 나서 숨이 편해졌어요. ", 8), Status: "visible", CreatedAt: now, UpdatedAt: now}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := indexer.PostDoc(r); err != nil {
			b.Fatal(err)
		}
	}
}
