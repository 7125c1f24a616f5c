package searchapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/mappings"
)

// The warm-up sends what the API sends: per query every sort mode and a
// suggestion, the feed's pages for posts; refused queries are left out.
func TestWarmBodies(t *testing.T) {
	tooLong := strings.Repeat("천", MaxQueryRunes+1)
	tests := []struct {
		kind    string
		queries []string
		want    int
	}{
		{mappings.Posts, []string{"천식", "흡입기"}, 2*3 + 2},
		{mappings.Contents, []string{"천식", "흡입기"}, 2 * 3},
		{mappings.Users, []string{"천식", "흡입기"}, 2 * 2},
		{mappings.Contents, []string{"천식", tooLong, "   "}, 3},
		{mappings.Posts, nil, 2}, // the feed alone
		{mappings.Contents, CommonQueries, len(CommonQueries) * 3},
	}
	for _, tt := range tests {
		bodies, err := WarmBodies(tt.kind, tt.queries)
		if err != nil {
			t.Fatalf("%s %q: %v", tt.kind, tt.queries, err)
		}
		if len(bodies) != tt.want {
			t.Errorf("%s %q: %d bodies, want %d", tt.kind, tt.queries, len(bodies), tt.want)
		}
		for _, b := range bodies {
			if !json.Valid(b) {
				t.Errorf("%s: not JSON: %s", tt.kind, b)
			}
			if bytes.Contains(b, []byte(tooLong)) {
				t.Errorf("%s: a refused query was sent: %.80s…", tt.kind, b)
			}
		}
	}
	want, _ := json.Marshal(SearchBody(SearchParams{Kind: mappings.Contents, Query: "천식", Sort: SortRelevance, Size: DefaultSize}))
	got, _ := WarmBodies(mappings.Contents, []string{"천식"})
	if !bytes.Equal(got[0], want) {
		t.Errorf("first body is not the API's default search:\n got %s\nwant %s", got[0], want)
	}
}

// Warmup's queries: the popular ones (at most MaxPopularWarm asked, the
// common list as fallback), the common list alone without insights or when
// the popular ones cannot be read (a warning); read once for every kind.
func TestWarmupChoosesQueries(t *testing.T) {
	errDown := errors.New("engine down")
	tests := []struct {
		name    string
		popular PopularQueries
		want    []string // the queries warmed
		warns   int
	}{
		{"no insights", nil, CommonQueries, 0},
		{"popular first", func(_ context.Context, n int, fallback []string) ([]string, error) {
			if n != MaxPopularWarm || len(fallback) != len(CommonQueries) {
				t.Errorf("popular(%d, %d fallback), want (%d, %d)", n, len(fallback), MaxPopularWarm, len(CommonQueries))
			}
			return []string{"천식약"}, nil
		}, []string{"천식약"}, 0},
		{"unreadable", func(_ context.Context, _ int, fallback []string) ([]string, error) {
			return fallback, errDown
		}, CommonQueries, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			popular := tt.popular
			if popular != nil {
				popular = func(ctx context.Context, n int, fallback []string) ([]string, error) {
					calls++
					return tt.popular(ctx, n, fallback)
				}
			}
			var logs bytes.Buffer
			warm := Warmup(context.Background(), popular, slog.New(slog.NewTextHandler(&logs, nil)))
			for _, kind := range []string{mappings.Contents, mappings.Users} {
				want, _ := WarmBodies(kind, tt.want)
				if got := warm(kind); len(got) != len(want) || !bytes.Equal(got[0], want[0]) {
					t.Errorf("%s: %d bodies, want %d (of %q)", kind, len(got), len(want), tt.want)
				}
			}
			if popular != nil && calls != 1 {
				t.Errorf("popular read %d times, want once", calls)
			}
			if n := strings.Count(logs.String(), "level=WARN"); n != tt.warns {
				t.Errorf("%d warnings, want %d: %s", n, tt.warns, logs.String())
			}
		})
	}
}
