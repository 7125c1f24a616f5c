package searchapi

import (
	"bytes"
	"encoding/json"
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
