package insights

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// The report's from and to are in one zone, Korean time, whatever zone the
// range was given in (a date's from is in Korea; a defaulted to is the
// server's clock, often UTC).
func TestReportEndsInKoreanTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound) // nothing recorded yet: an empty report
		io.WriteString(w, `{"error":{"type":"index_not_found_exception","reason":"no such index"},"status":404}`)
	}))
	defer srv.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}, DisableRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
	}{
		{"from a date, to now in UTC", time.Date(2026, 12, 1, 0, 0, 0, 0, Zone), time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)},
		{"both UTC instants", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"both in another zone", time.Date(2026, 12, 1, 0, 0, 0, 0, time.FixedZone("", -5*3600)), time.Date(2026, 12, 2, 0, 0, 0, 0, time.FixedZone("", -5*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := NewReader(es, "ins").Report(context.Background(), tt.from, tt.to, 5)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(rep)
			var got struct{ From, To string }
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(got.From, "+09:00") || !strings.HasSuffix(got.To, "+09:00") {
				t.Errorf("from %s, to %s: want both in +09:00", got.From, got.To)
			}
			if !rep.From.Equal(tt.from) || !rep.To.Equal(tt.to) {
				t.Errorf("instants changed: %v %v", rep.From, rep.To)
			}
		})
	}
}
