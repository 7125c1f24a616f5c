package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer/bulk"
)

// bulkCheckBackoff checks full-jitter waits: retry n waits at most
// min(max, base·2^(n-1)).
func bulkCheckBackoff(t *testing.T, sleeps []time.Duration, base, max time.Duration) {
	t.Helper()
	for i, d := range sleeps {
		limit := min(max, base<<i)
		if d < 0 || d > limit {
			t.Errorf("backoff %d = %v, want within [0, %v]", i+1, d, limit)
		}
	}
}

func TestBulkRetriesWholeRequest(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newBulkFake(t)
			f.wholeStatus = func(call int) int {
				if call < 2 {
					return status
				}
				return 0
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
			res := bulkWriteOK(t, w, bulkIndexOps(5))
			if res.Indexed != 5 || res.Retries != 2 || len(res.Failed) != 0 {
				t.Errorf("result = %+v, want 5 indexed after 2 retries", res)
			}
			reqs, _ := f.snapshot()
			if len(reqs) != 3 || len(reqs[2]) != 5 {
				t.Errorf("requests = %d, want 3 whole requests", len(reqs))
			}
			got := sleeps.all()
			if len(got) != 2 {
				t.Fatalf("slept %v, want 2 backoffs", got)
			}
			bulkCheckBackoff(t, got, 200*time.Millisecond, 10*time.Second)
		})
	}
}

// A request that timed out may still be running on the engine: the retry
// waits at least as long as the unanswered attempt took, instead of piling a
// second copy onto a busy engine after the usual short backoff.
func TestBulkRetryAfterTimeoutWaitsOutTheAttempt(t *testing.T) {
	f := newBulkFake(t)
	f.hold = func(call int) time.Duration {
		if call == 0 {
			return 600 * time.Millisecond
		}
		return 0
	}
	const timeout = 200 * time.Millisecond
	c, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{f.srv.URL}, RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(c.ES, bulk.Options{Concurrency: 1, BaseBackoff: 10 * time.Millisecond, Sleep: sleeps.sleep}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(5))
	if res.Indexed != 5 || res.Retries != 1 {
		t.Errorf("result = %+v, want 5 indexed after 1 retry", res)
	}
	got := sleeps.all()
	if len(got) != 1 || got[0] < timeout {
		t.Errorf("backoffs %v; want one of at least the %s the unanswered attempt took", got, timeout)
	}
}

// A connection refused sent nothing: the usual backoff, nothing to wait out.
func TestBulkRetryAfterRefusedConnectionIsShort(t *testing.T) {
	f := newBulkFake(t)
	addr := f.srv.Listener.Addr().String()
	f.srv.Close()
	c, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{"http://" + addr}, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(c.ES, bulk.Options{Concurrency: 1, BaseBackoff: 10 * time.Millisecond, MaxRetries: 2, Sleep: sleeps.sleep}, nil)
	if _, err := w.Write(context.Background(), bulkIndexOps(1)); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	bulkCheckBackoff(t, sleeps.all(), 10*time.Millisecond, 10*time.Second)
}

func TestBulkBackoffIsCappedFullJitter(t *testing.T) {
	f := newBulkFake(t)
	f.wholeStatus = func(call int) int {
		if call < 8 {
			return http.StatusTooManyRequests
		}
		return 0
	}
	var sleeps bulkSleeps
	const base, max = 100 * time.Millisecond, 400 * time.Millisecond
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, BaseBackoff: base, MaxBackoff: max,
		MaxRetries: 8, Sleep: sleeps.sleep}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(2))
	if res.Indexed != 2 || res.Retries != 8 {
		t.Errorf("result = %+v", res)
	}
	got := sleeps.all()
	if len(got) != 8 {
		t.Fatalf("slept %v, want 8 backoffs", got)
	}
	bulkCheckBackoff(t, got, base, max)
	jittered := false
	for i, d := range got {
		if d != min(max, base<<i) {
			jittered = true
		}
	}
	if !jittered {
		t.Errorf("backoffs %v are all exactly the cap: no jitter", got)
	}
}

func TestBulkRetriesOnlyRejectedItems(t *testing.T) {
	for _, status := range []int{429, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newBulkFake(t)
			f.itemStatus = func(call int, a bulkFakeAction) (int, string, string) {
				if call == 0 && (a.ID == "id-003" || a.ID == "id-007") {
					return status, "es_rejected_execution_exception", "rejected execution of coordinating operation"
				}
				return 0, "", ""
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
			res := bulkWriteOK(t, w, bulkIndexOps(10))
			if res.Indexed != 10 || res.Retries != 1 || len(res.Failed) != 0 {
				t.Errorf("result = %+v, want 10 indexed after 1 retry", res)
			}
			reqs, _ := f.snapshot()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			if got := bulkIDs(reqs[1]); !slices.Equal(got, []string{"id-003", "id-007"}) {
				t.Errorf("retry sent %v, want only the rejected items in order", got)
			}
			if len(sleeps.all()) != 1 {
				t.Errorf("slept %v, want one backoff", sleeps.all())
			}
		})
	}
}

func TestBulkItemRetriesExhaustedAreReported(t *testing.T) {
	f := newBulkFake(t)
	f.itemStatus = func(_ int, a bulkFakeAction) (int, string, string) {
		if a.ID == "id-001" {
			return 429, "es_rejected_execution_exception", "queue full"
		}
		return 0, "", ""
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, MaxRetries: 3, Sleep: sleeps.sleep}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(3))
	if res.Indexed != 2 || res.Retries != 3 || len(res.Failed) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if fe := res.Failed[0]; fe.Pos != 1 || fe.Status != 429 || fe.Type != "es_rejected_execution_exception" || !fe.Temporary() {
		t.Errorf("failed = %+v", fe)
	}
	if reqs, _ := f.snapshot(); len(reqs) != 4 {
		t.Errorf("%d requests, want 1 + 3 retries", len(reqs))
	}
}

func TestBulkCancelDuringBackoffReturnsPromptly(t *testing.T) {
	f := newBulkFake(t)
	f.wholeStatus = func(int) int { return http.StatusServiceUnavailable }
	// The real timer, with backoffs of up to an hour.
	w := bulk.NewWriter(f.client(), bulk.Options{BaseBackoff: time.Hour, MaxBackoff: time.Hour}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(ctx, bulkIndexOps(4))
		done <- err
	}()
	select {
	case <-f.arrived:
	case err := <-done:
		t.Fatalf("Write returned before any request: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // let the writer start waiting
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Write returned %v after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Write did not return after cancel")
	}
}

func TestBulkRequestFailuresReturnError(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name      string
		status    int  // whole-request status; 0 = connection refused
		retryable bool // retried MaxRetries times before giving up
		wantIs    error
	}{
		{"503 exhausted", 503, true, engine.ErrUnavailable},
		{"429 exhausted", 429, true, engine.ErrUnavailable},
		{"connection refused", 0, true, engine.ErrUnavailable},
		{"401 not retried", 401, false, nil},
		{"400 not retried", 400, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			f.wholeStatus = func(int) int { return tt.status }
			es := f.client()
			if tt.status == 0 {
				es = bulkTestClient(t, closedURL)
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(es, bulk.Options{Concurrency: 1, MaxRetries: 3, Sleep: sleeps.sleep}, nil)
			res, err := w.Write(context.Background(), bulkIndexOps(3))
			if err == nil {
				t.Fatalf("Write = %+v, nil error", res)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
			var se *engine.StatusError
			if tt.status != 0 && (!errors.As(err, &se) || se.Status != tt.status) {
				t.Errorf("err = %v, want a *engine.StatusError with status %d", err, tt.status)
			}
			wantRetries := 0
			if tt.retryable {
				wantRetries = 3
			}
			if res.Retries != wantRetries || len(sleeps.all()) != wantRetries {
				t.Errorf("retries = %d, sleeps = %v, want %d", res.Retries, sleeps.all(), wantRetries)
			}
			if tt.status != 0 {
				if reqs, _ := f.snapshot(); len(reqs) != wantRetries+1 {
					t.Errorf("%d requests, want %d", len(reqs), wantRetries+1)
				}
			}
			if st := w.Stats(); st.Errors != 1 || st.Writes != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestBulkBadResponseIsRetriedThenError(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"truncated", `{"took":1,"errors":true,"items":[{"index":{"_id":"id-000","status":201}}`},
		{"too few items", `{"took":1,"errors":true,"items":[{"index":{"_id":"id-000","status":201}}]}`},
		{"out of step", `{"errors":true,"items":[{"index":{"_id":"id-001","status":201}},{"index":{"_id":"id-000","status":201}}]}`},
		{"not json", `<html>proxy error</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			f.rawBody = func(call int) []byte {
				if call == 0 {
					return []byte(tt.body)
				}
				return nil
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
			res := bulkWriteOK(t, w, bulkIndexOps(2))
			if res.Indexed != 2 || res.Retries != 1 {
				t.Errorf("result = %+v, want the request re-sent once and counted once", res)
			}

			f2 := newBulkFake(t)
			f2.rawBody = func(int) []byte { return []byte(tt.body) }
			w = bulk.NewWriter(f2.client(), bulk.Options{Concurrency: 1, MaxRetries: 2, Sleep: sleeps.sleep}, nil)
			if _, err := w.Write(context.Background(), bulkIndexOps(2)); err == nil {
				t.Error("a response that never parses: nil error")
			}
		})
	}
}
