package indexer

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/searchapi"
)

// A reindex warms the new index with the API's searches before the alias
// moves; a warm-up search the engine rejects fails the run before the swap,
// with the new index deleted and the alias where it was; a warm-up that runs
// out of time is no failure.
func TestIntegrationReindexWarmsBeforeSwap(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	e := testEngines(t)[0]
	ctx := context.Background()
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	api, err := searchapi.WarmBodies(mappings.Posts, searchapi.CommonQueries[:4])
	if err != nil {
		t.Fatal(err)
	}
	rejected := append(slices.Clone(api), []byte(`{"query":{"match_all":{}},"sort":[{"no_such_field":"desc"}]}`))
	// searchesAtSwap is what the engine counted on the new index when the
	// alias was about to move.
	var searchesAtSwap int64
	r.beforeSwap = func() {
		all, current, err := life.Physical(ctx, mappings.Posts)
		if err != nil {
			t.Error(err)
			return
		}
		for _, idx := range all {
			if idx != current {
				searchesAtSwap = testengine.Searches(t, e.Client, idx, "")
			}
		}
	}
	tests := []struct {
		name         string
		warm         WarmOptions
		wantErr      bool
		wantSearches int // at least, before the swap, beyond a run without warm-up
		wantSettled  bool
	}{
		{name: "off", warm: WarmOptions{Bodies: api}},
		{name: "warmed", warm: WarmOptions{Bodies: api, For: time.Minute}, wantSearches: len(api), wantSettled: true},
		{name: "rejected search", warm: WarmOptions{Bodies: rejected, For: time.Minute}, wantErr: true},
		{name: "out of time", warm: WarmOptions{Bodies: api, For: time.Millisecond}},
	}
	var unwarmed int64
	for _, tt := range tests {
		allBefore, before, err := life.Physical(ctx, mappings.Posts)
		if err != nil {
			t.Fatal(err)
		}
		searchesAtSwap = 0
		rep, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile, Warm: tt.warm})
		if tt.name == "off" {
			unwarmed = searchesAtSwap
		}
		t.Logf("%s: %s; %d searches on the new index at the swap", tt.name, rep.Warm, searchesAtSwap)
		if tt.wantErr {
			var se *engine.StatusError
			if !errors.As(err, &se) || se.Status != 400 {
				t.Errorf("%s: err = %v, want the engine's 400", tt.name, err)
			}
			all, current, _ := life.Physical(ctx, mappings.Posts)
			if current != before || !slices.Equal(all, allBefore) {
				t.Errorf("%s: indices %v, alias on %q; want %v, alias on %q", tt.name, all, current, allBefore, before)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if rep.Warm.Searches < tt.wantSearches || rep.Warm.Settled != tt.wantSettled {
			t.Errorf("%s: warm-up %+v; want at least %d searches, settled %v", tt.name, rep.Warm, tt.wantSearches, tt.wantSettled)
		}
		if tt.name == "warmed" && searchesAtSwap-unwarmed < int64(len(api)) {
			t.Errorf("%s: %d searches on the new index before the swap, %d without warm-up; want %d more",
				tt.name, searchesAtSwap, unwarmed, len(api))
		}
	}
}
