package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/config"
)

// /readyz answers 200 when every dependency answers, else 503 in the one
// error envelope (code, message, request_id) with what is down; both match
// the OpenAPI document.
func TestReadyzAnswers(t *testing.T) {
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.7:3306: connect: connection refused") }
	tests := []struct {
		name       string
		checks     []Check
		wantStatus int
		wantDown   []string
	}{
		{"all up", []Check{{"mysql", up}, {"opensearch", up}}, http.StatusOK, nil},
		{"mysql down", []Check{{"mysql", down}, {"opensearch", up}}, http.StatusServiceUnavailable, []string{"mysql"}},
		{"both down", []Check{{"opensearch", down}, {"mysql", down}}, http.StatusServiceUnavailable, []string{"mysql", "opensearch"}},
	}
	v := apidoctest.New(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.New(slog.NewTextHandler(io.Discard, nil)), tt.checks)
			req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
			req.Header.Set("X-Request-ID", "ready-1")
			rec := v.Serve(t, s.Handler(), req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var body struct {
				Status    string                 `json:"status"`
				Code      string                 `json:"code"`
				Message   string                 `json:"message"`
				RequestID string                 `json:"request_id"`
				Down      []string               `json:"down"`
				Checks    map[string]CheckResult `json:"checks"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Checks) != len(tt.checks) {
				t.Errorf("checks %v, want one per dependency", body.Checks)
			}
			if tt.wantStatus == http.StatusOK {
				if body.Status != "ready" {
					t.Errorf("status %q, want ready", body.Status)
				}
				return
			}
			if body.Code != "unavailable" || body.Message == "" || body.RequestID != "ready-1" || !slices.Equal(body.Down, tt.wantDown) {
				t.Errorf("503 body %s: want code unavailable, a message, request_id ready-1, down %v", rec.Body, tt.wantDown)
			}
			if r := body.Checks["mysql"]; tt.wantDown[0] == "mysql" && (r.Status != "down" || r.Error != "connection refused") {
				t.Errorf("mysql check %+v: want down, connection refused (no address)", r)
			}
		})
	}
}
