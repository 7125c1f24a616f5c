package indexer

import (
	"errors"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func built(at time.Time) Marks { return Marks{BuildStarted: at, Built: at.Add(time.Minute)} }

func retired(at, when time.Time, rolledBack bool) Marks {
	m := built(at)
	m.LiveSince, m.Retired = at.Add(2*time.Minute), when
	if rolledBack {
		m.RolledBack = when
	}
	return m
}

// history orders rollback targets by when they stopped being live, never
// by name, and leaves out the live index, half-built ones, ones a rollback
// left and ones never live; legacy indices (no marks) come last.
func TestHistory(t *testing.T) {
	states := []IndexState{
		{Physical: "p-posts-1", Marks: Marks{}},                                               // legacy
		{Physical: "p-posts-2", Marks: retired(t0, t0.Add(5*time.Hour), false)},               // live before the current one
		{Physical: "p-posts-3", Marks: retired(t0.Add(time.Hour), t0.Add(4*time.Hour), true)}, // a rollback left it
		{Physical: "p-posts-4", Marks: retired(t0.Add(2*time.Hour), t0.Add(3*time.Hour), false)},
		{Physical: "p-posts-5", Marks: Marks{BuildStarted: t0.Add(6 * time.Hour)}}, // half-built
		{Physical: "p-posts-6", Loading: true},                                     // legacy, still loading
		{Physical: "p-posts-7", Marks: built(t0.Add(7 * time.Hour))},               // finished, never live
		{Physical: "p-posts-8", Live: true, Marks: built(t0.Add(8 * time.Hour))},
	}
	var got []string
	for _, s := range history(states) {
		got = append(got, s.Physical)
	}
	if want := []string{"p-posts-2", "p-posts-4", "p-posts-1"}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if got, want := Orphans(states), []string{"p-posts-5", "p-posts-6"}; !slices.Equal(got, want) {
		t.Errorf("orphans = %v, want %v", got, want)
	}
}

func TestCheckTarget(t *testing.T) {
	now := t0.Add(10 * 24 * time.Hour)
	tests := []struct {
		name   string
		target IndexState
		opts   RollbackOptions
		ok     bool
	}{
		{"recent", IndexState{SchemaVersion: 3, Marks: retired(t0, now.Add(-time.Hour), false)}, RollbackOptions{MaxAge: DefaultRollbackMaxAge}, true},
		{"half-built", IndexState{SchemaVersion: 3, Marks: Marks{BuildStarted: now}}, RollbackOptions{MaxAge: DefaultRollbackMaxAge, Force: true}, false},
		{"other schema, even forced", IndexState{SchemaVersion: 2, Marks: retired(t0, now.Add(-time.Hour), false)}, RollbackOptions{MaxAge: DefaultRollbackMaxAge, Force: true}, false},
		{"too old", IndexState{SchemaVersion: 3, Marks: retired(t0, now.Add(-8*24*time.Hour), false)}, RollbackOptions{MaxAge: DefaultRollbackMaxAge}, false},
		{"too old, forced", IndexState{SchemaVersion: 3, Marks: retired(t0, now.Add(-8*24*time.Hour), false)}, RollbackOptions{MaxAge: DefaultRollbackMaxAge, Force: true}, true},
		{"legacy: aged by creation", IndexState{SchemaVersion: 3, Created: now.Add(-8 * 24 * time.Hour)}, RollbackOptions{MaxAge: DefaultRollbackMaxAge}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTarget(tt.target, 3, now, tt.opts)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrRollbackRefused)) {
				t.Errorf("checkTarget = %v, want ok %v (or ErrRollbackRefused)", err, tt.ok)
			}
		})
	}
}

func TestDiffString(t *testing.T) {
	tests := []struct {
		d    Diff
		want string
	}{
		{Diff{Index: "s-posts", Docs: 3, Rows: 3}, "s-posts: equal (3 documents)"},
		{Diff{Index: "s-posts", Docs: 3, Rows: 3, Different: []uint64{17}}, "s-posts: 3 rows, 3 documents; missing 0, extra 0, different 1 (id 17)"},
		{Diff{Index: "s-posts", Docs: 9, Rows: 2, Extra: []uint64{1, 2, 3, 4, 5, 6, 7}}, "s-posts: 2 rows, 9 documents; missing 0, extra 7 (first ids 1, 2, 3, 4, 5, …), different 0"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Diff.String() = %q, want %q", got, tt.want)
		}
	}
}
