package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/indexer/bulk"
)

func TestBulkSplitsRequestsByOpsAndBytes(t *testing.T) {
	ops := bulkIndexOps(10)
	one := bulkOpBytes(ops[0]) // every op of bulkIndexOps has the same size
	big := bulkIndexOps(3)
	for i := range big {
		big[i].Doc = json.RawMessage(`{"body":"` + strings.Repeat("천식", 100) + `"}`)
	}
	tests := []struct {
		name     string
		opts     bulk.Options
		ops      []bulk.Op
		want     []int // ops per request, in order (Concurrency 1)
		maxBytes int
	}{
		{"by ops", bulk.Options{MaxOps: 3}, ops, []int{3, 3, 3, 1}, 0},
		{"by bytes", bulk.Options{MaxBytes: 2*one + one/2}, ops, []int{2, 2, 2, 2, 2}, 2*one + one/2},
		{"exact fit", bulk.Options{MaxBytes: 5 * one}, ops, []int{5, 5}, 5 * one},
		{"ops before bytes", bulk.Options{MaxOps: 4, MaxBytes: 5 * one}, ops, []int{4, 4, 2}, 5 * one},
		{"oversized op goes alone", bulk.Options{MaxBytes: 100}, big, []int{1, 1, 1}, 0},
		{"defaults: one request", bulk.Options{}, ops, []int{10}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			tt.opts.Concurrency = 1
			w := bulk.NewWriter(f.client(), tt.opts, nil)
			res := bulkWriteOK(t, w, tt.ops)
			if res.Indexed != len(tt.ops) || len(res.Failed) != 0 || res.Retries != 0 {
				t.Errorf("result = %+v", res)
			}
			reqs, sizes := f.snapshot()
			var got []int
			var ids []string
			for i, r := range reqs {
				got = append(got, len(r))
				ids = append(ids, bulkIDs(r)...)
				if tt.maxBytes > 0 && sizes[i] > tt.maxBytes {
					t.Errorf("request %d is %d bytes > MaxBytes %d", i, sizes[i], tt.maxBytes)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ops per request = %v, want %v", got, tt.want)
			}
			if !slices.Equal(ids, bulkIDs(bulkFakeActions(tt.ops))) {
				t.Errorf("ids sent = %v, want the ops in order", ids)
			}
		})
	}
}

func bulkFakeActions(ops []bulk.Op) []bulkFakeAction {
	out := make([]bulkFakeAction, len(ops))
	for i, op := range ops {
		out[i] = bulkFakeAction{Action: string(op.Action), Index: op.Index, ID: op.ID, Version: op.Version}
	}
	return out
}

func TestBulkEveryActionCarriesExternalVersion(t *testing.T) {
	f := newBulkFake(t)
	pretty := json.RawMessage("{\n  \"title\": \"천식 흡입기\",\n  \"n\": 1\n}\n")
	ops := []bulk.Op{
		{Action: bulk.ActionIndex, Index: "posts", ID: "1", Version: 1, Doc: json.RawMessage(`{"a":1}`)},
		{Action: bulk.ActionIndex, Index: "posts", ID: `quo"te\back`, Version: 1 << 40, Doc: pretty},
		{Action: bulk.ActionIndex, Index: "contents", ID: "흡입기-7", Version: 9, Doc: json.RawMessage(`{"b":"x"}`)},
		{Action: bulk.ActionDelete, Index: "posts", ID: "2", Version: 3},
		{Action: bulk.ActionDelete, Index: "users", ID: "tab\there", Version: 5},
	}
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1}, nil)
	res := bulkWriteOK(t, w, ops)
	if res.Indexed != 3 || res.NotFound != 2 || len(res.Failed) != 0 {
		t.Errorf("result = %+v", res)
	}
	reqs, _ := f.snapshot()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	for i, a := range reqs[0] {
		op := ops[i]
		if a.Action != string(op.Action) || a.Index != op.Index || a.ID != op.ID || a.Version != op.Version || a.VersionType != "external_gte" {
			t.Errorf("action %d = %+v, want %+v with version_type external_gte", i, a, op)
		}
	}
	if got := string(reqs[0][1].Doc); got != `{"title":"천식 흡입기","n":1}` {
		t.Errorf("pretty document sent as %q, want it compacted onto one line", got)
	}
}

func TestBulkKeepsPerIDOrderUnderConcurrency(t *testing.T) {
	f := newBulkFake(t)
	f.delay = 3 * time.Millisecond
	const ids, versions = 60, 6
	var ops []bulk.Op
	for v := 1; v <= versions; v++ { // round-robin: v1 of every id, then v2, …
		for id := range ids {
			op := bulk.Op{Action: bulk.ActionIndex, Index: "posts", ID: fmt.Sprint(id), Version: int64(v),
				Doc: json.RawMessage(fmt.Sprintf(`{"v":%d}`, v))}
			if v == versions && id%3 == 0 {
				op = bulk.Op{Action: bulk.ActionDelete, Index: "posts", ID: fmt.Sprint(id), Version: int64(v)}
			}
			ops = append(ops, op)
		}
	}
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 4, MaxOps: 7}, nil)
	res := bulkWriteOK(t, w, ops)
	// Out-of-order delivery would show as conflicts (older after newer) here.
	if res.Conflicts != 0 || len(res.Failed) != 0 || res.Indexed+res.Deleted != len(ops) || res.Deleted != ids/3 {
		t.Errorf("result = %+v, want every op applied in order", res)
	}
	reqs, _ := f.snapshot()
	last := map[string]int64{}
	for _, r := range reqs {
		for _, a := range r {
			if a.Version <= last[a.ID] {
				t.Errorf("id %s: version %d arrived after %d", a.ID, a.Version, last[a.ID])
			}
			last[a.ID] = a.Version
		}
	}
	if got := f.maxInflight.Load(); got < 2 || got > 4 {
		t.Errorf("max requests in flight = %d, want 2..4", got)
	}
}

func TestBulkConcurrencyIsSharedByConcurrentWrites(t *testing.T) {
	f := newBulkFake(t)
	f.delay = 5 * time.Millisecond
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 2, MaxOps: 3}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ops := bulkIndexOps(30)
			for i := range ops {
				ops[i].Index = fmt.Sprintf("posts-%d", g)
			}
			res, err := w.Write(context.Background(), ops)
			if err != nil || res.Indexed != 30 {
				t.Errorf("writer %d: %+v, %v", g, res, err)
			}
		})
	}
	wg.Wait()
	if got := f.maxInflight.Load(); got > 2 {
		t.Errorf("max requests in flight = %d, want <= Concurrency 2", got)
	}
}

func TestBulkItemOutcomes(t *testing.T) {
	const reason = "failed to parse field [n] of type [integer] in document with id 'bad'"
	tests := []struct {
		name   string
		stored map[string]int64 // preloaded versions, index/id
		item   func(a bulkFakeAction) (int, string, string)
		ops    []bulk.Op
		want   bulk.Result
	}{
		{
			name: "mapper_parsing_exception is reported, the rest applied",
			item: func(a bulkFakeAction) (int, string, string) {
				if a.ID == "bad" {
					return 400, "mapper_parsing_exception", reason
				}
				return 0, "", ""
			},
			ops: []bulk.Op{
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 1, Doc: json.RawMessage(`{"n":1}`)},
				{Action: bulk.ActionIndex, Index: "p", ID: "bad", Version: 2, Doc: json.RawMessage(`{"n":"x"}`)},
				{Action: bulk.ActionIndex, Index: "p", ID: "3", Version: 3, Doc: json.RawMessage(`{"n":3}`)},
			},
			want: bulk.Result{Indexed: 2, Failed: []bulk.ItemError{{Pos: 1,
				Op:     bulk.Op{Action: bulk.ActionIndex, Index: "p", ID: "bad", Version: 2},
				Status: 400, Type: "mapper_parsing_exception", Reason: reason}}},
		},
		{
			name:   "409 is a conflict, not a failure",
			stored: map[string]int64{"p/1": 10, "p/2": 10},
			ops: []bulk.Op{
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 5, Doc: json.RawMessage(`{}`)},
				{Action: bulk.ActionDelete, Index: "p", ID: "2", Version: 9},
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 10, Doc: json.RawMessage(`{}`)},
			},
			want: bulk.Result{Indexed: 1, Conflicts: 2},
		},
		{
			name:   "deletes: found, missing, missing index",
			stored: map[string]int64{"p/1": 1},
			item: func(a bulkFakeAction) (int, string, string) {
				if a.Index == "gone" {
					return 404, "index_not_found_exception", "no such index [gone]"
				}
				return 0, "", ""
			},
			ops: []bulk.Op{
				{Action: bulk.ActionDelete, Index: "p", ID: "1", Version: 2},
				{Action: bulk.ActionDelete, Index: "p", ID: "2", Version: 2},
				{Action: bulk.ActionDelete, Index: "gone", ID: "3", Version: 2},
			},
			want: bulk.Result{Deleted: 1, NotFound: 1, Failed: []bulk.ItemError{{Pos: 2,
				Op:     bulk.Op{Action: bulk.ActionDelete, Index: "gone", ID: "3", Version: 2},
				Status: 404, Type: "index_not_found_exception", Reason: "no such index [gone]"}}},
		},
		{
			name: "invalid ops are reported and not sent",
			ops: []bulk.Op{
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 0, Doc: json.RawMessage(`{}`)},
				{Action: bulk.ActionIndex, Index: "p", ID: "2", Version: 1},
				{Action: "update", Index: "p", ID: "3", Version: 1},
				{Action: bulk.ActionDelete, Index: "p", ID: strings.Repeat("x", 513), Version: 1},
				{Action: bulk.ActionIndex, Index: "p", ID: "5", Version: 1, Doc: json.RawMessage("{\n")},
				{Action: bulk.ActionIndex, Index: "p", ID: "6", Version: 1, Doc: json.RawMessage(`{}`)},
			},
			want: bulk.Result{Indexed: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			for k, v := range tt.stored {
				f.store[k] = v
			}
			if tt.item != nil {
				f.itemStatus = func(_ int, a bulkFakeAction) (int, string, string) { return tt.item(a) }
			}
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 2}, nil)
			res := bulkWriteOK(t, w, tt.ops)
			if strings.HasPrefix(tt.name, "invalid") {
				if len(res.Failed) != 5 {
					t.Fatalf("failed = %+v, want 5 invalid ops", res.Failed)
				}
				for i, fe := range res.Failed {
					if fe.Pos != i || fe.Status != 0 || fe.Type != "invalid_op" || fe.Reason == "" {
						t.Errorf("failed[%d] = %+v", i, fe)
					}
				}
				reqs, _ := f.snapshot()
				if len(reqs) != 1 || len(reqs[0]) != 1 || reqs[0][0].ID != "6" {
					t.Errorf("sent %v, want only the valid op", reqs)
				}
				res.Failed = nil
			}
			if res.Indexed != tt.want.Indexed || res.Deleted != tt.want.Deleted || res.Conflicts != tt.want.Conflicts ||
				res.NotFound != tt.want.NotFound || res.Retries != 0 || !slices.EqualFunc(res.Failed, tt.want.Failed, bulkSameItemError) {
				t.Errorf("result = %+v\nwant     %+v", res, tt.want)
			}
			if got, want := res.Acknowledged()+len(res.Failed), len(tt.ops)-strings.Count(tt.name, "invalid")*5; got != want {
				t.Errorf("acknowledged+failed = %d, want %d", got, want)
			}
		})
	}
}

// bulkSameItemError compares item errors; the reported op never carries its Doc.
func bulkSameItemError(a, b bulk.ItemError) bool {
	return a.Pos == b.Pos && a.Status == b.Status && a.Type == b.Type && a.Reason == b.Reason && a.Op.Doc == nil &&
		a.Op.Action == b.Op.Action && a.Op.Index == b.Op.Index && a.Op.ID == b.Op.ID && a.Op.Version == b.Op.Version
}

func TestBulkSendsRefreshAndFilterPath(t *testing.T) {
	f := newBulkFake(t)
	w := bulk.NewWriter(f.client(), bulk.Options{Refresh: "wait_for"}, nil)
	bulkWriteOK(t, w, bulkIndexOps(1))
	f.mu.Lock()
	q := f.queries[0]
	f.mu.Unlock()
	if q.Get("refresh") != "wait_for" || !strings.Contains(q.Get("filter_path"), "items.*.status") {
		t.Errorf("query = %v", q)
	}
}

func TestBulkStatsAccumulate(t *testing.T) {
	f := newBulkFake(t)
	f.store["posts/id-000"] = 1000
	f.itemStatus = func(call int, a bulkFakeAction) (int, string, string) {
		switch {
		case a.ID == "id-001":
			return 400, "document_parsing_exception", "bad"
		case a.ID == "id-002" && call == 0:
			return 429, "es_rejected_execution_exception", "busy"
		}
		return 0, "", ""
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
	ops := append(bulkIndexOps(5), bulk.Op{Action: bulk.ActionDelete, Index: "posts", ID: "id-004", Version: 999},
		bulk.Op{Action: bulk.ActionDelete, Index: "posts", ID: "nope", Version: 1})
	bulkWriteOK(t, w, ops)
	bulkWriteOK(t, w, nil)
	st := w.Stats()
	want := bulk.Stats{Writes: 2, Requests: 2, Retries: 1, Indexed: 3, Deleted: 1, Conflicts: 1, NotFound: 1, Failed: 1}
	_, sizes := f.snapshot()
	want.Bytes = int64(sizes[0] + sizes[1])
	if st != want {
		t.Errorf("stats = %+v\nwant    %+v", st, want)
	}
}
