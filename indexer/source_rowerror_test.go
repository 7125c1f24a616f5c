package indexer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A row's build failure is described without quoting the row: JSON and
// conversion errors can carry the offending text.
func TestSafeReasonNeverQuotesTheRow(t *testing.T) {
	unmarshal := func(raw string) error {
		var tags []string
		return &columnError{column: "tags", err: json.Unmarshal([]byte(raw), &tags)}
	}
	cases := []struct {
		name   string
		err    error
		want   string
		secret string
	}{
		{"a number where a string belongs", unmarshal(`[1]`), "column tags: JSON number where string was expected", "[1]"},
		{"an out-of-range number", unmarshal(`[1e999비밀]`), "column tags: malformed JSON at byte", "비밀"},
		{"an object", unmarshal(`{"비밀": "천식"}`), "column tags: JSON object where []string was expected", "비밀"},
		{"nested arrays", unmarshal(`[["비밀"]]`), "column tags: JSON array where string was expected", "비밀"},
		{"a scan conversion", fmt.Errorf(`sql: Scan error on column index 8, name "like_count": converting driver.Value type []uint8 ("비밀9") to a int: invalid syntax`),
			"column like_count: value does not convert", "비밀"},
		{"a count out of range", fmt.Errorf("build document: %w", errCountRange), "out of the index's integer range", ""},
		{"anything else", fmt.Errorf("build document: %w", errors.New("비밀 text")), "the document could not be built", "비밀"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := safeReason(tc.err)
			if !strings.Contains(got, tc.want) || (tc.secret != "" && strings.Contains(got, tc.secret)) {
				t.Errorf("safeReason = %q, want %q and never %q", got, tc.want, tc.secret)
			}
		})
	}
}

// Posts whose counts do not fit the index's integer fields are row errors,
// not documents the engine would refuse (and leave a stale one behind).
func TestPostDocCountOutOfRange(t *testing.T) {
	for _, n := range []int{4294967295, -3000000000} {
		if _, _, err := PostDoc(PostRow{ID: 1, Status: "visible", AuthorStatus: "active", LikeCount: n}); !errors.Is(err, errCountRange) {
			t.Errorf("like_count %d: err %v, want errCountRange", n, err)
		}
	}
	if _, ok, err := PostDoc(PostRow{ID: 1, Status: "visible", AuthorStatus: "active", LikeCount: 2147483647}); err != nil || !ok {
		t.Errorf("like_count at the limit: %v %v", ok, err)
	}
}

// A build counts, logs and records a bad row once, however many of its
// passes read it.
func TestLeftOutCountsEachRowOnce(t *testing.T) {
	var n int64
	left := newLeftOut(&n)
	passes := []struct {
		bad       []RowError
		wantFresh []uint64
		wantN     int64
	}{
		{[]RowError{{ID: 3}, {ID: 8}}, []uint64{3, 8}, 2},
		{[]RowError{{ID: 3}}, nil, 2},
		{[]RowError{{ID: 8}, {ID: 9}, {ID: 9}}, []uint64{9}, 3},
		{nil, nil, 3},
	}
	for i, p := range passes {
		var got []uint64
		for _, b := range left.add(p.bad) {
			got = append(got, b.ID)
		}
		if !slices.Equal(got, p.wantFresh) || n != p.wantN {
			t.Errorf("pass %d: fresh %v, count %d; want %v, %d", i, got, n, p.wantFresh, p.wantN)
		}
	}
}
