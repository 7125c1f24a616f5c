// Package smoke calls the API through the Go client that oapi-codegen generates from /openapi.json
// (scripts/clients.sh, docs/openapi.md, "Generated clients"). It is a module of its own so that the main
// module's `go vet ./...` and `go test ./...` never see it: the generated package soomcareapi is
// written into a temporary copy of this directory at test time, never into the repository.
package smoke

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/soomcare/soomcare/scripts/clients/go/soomcareapi"
)

// client is a generated client of the serve at $SOOMCARE_TEST_CLIENTS_URL.
func client(t *testing.T) *soomcareapi.ClientWithResponses {
	t.Helper()
	base := os.Getenv("SOOMCARE_TEST_CLIENTS_URL")
	if base == "" {
		t.Skip("SOOMCARE_TEST_CLIENTS_URL is not set: scripts/clients.sh starts a serve and sets it")
	}
	c, err := soomcareapi.NewClientWithResponses(base, soomcareapi.WithHTTPClient(&http.Client{Timeout: 15 * time.Second}))
	if err != nil {
		t.Fatalf("generated client: %v", err)
	}
	return c
}

// Search, suggestions and an error answer, each decoded into the generated types: a field the
// document describes wrongly (a type, a format, a required field) fails the decoding here.
func TestSearchThroughGeneratedClient(t *testing.T) {
	c := client(t)
	ctx := context.Background()

	page, err := c.SearchContentsWithResponse(ctx, &soomcareapi.SearchContentsParams{Q: "천식"})
	if err != nil {
		t.Fatalf("search contents: %v", err)
	}
	if page.StatusCode() != http.StatusOK || page.JSON200 == nil {
		t.Fatalf("search contents: %d %s", page.StatusCode(), page.Body)
	}
	if len(page.JSON200.Hits) == 0 {
		t.Fatalf("search contents for 천식 found nothing in the seeded corpus: %s", page.Body)
	}
	for _, h := range page.JSON200.Hits {
		if h.Id < 1 || h.Title == "" {
			t.Errorf("hit without id or title: %+v", h)
		}
	}

	all, err := c.SearchAllWithResponse(ctx, &soomcareapi.SearchAllParams{Q: "천식"})
	if err != nil {
		t.Fatalf("search all: %v", err)
	}
	if all.StatusCode() != http.StatusOK || all.JSON200 == nil {
		t.Fatalf("search all: %d %s", all.StatusCode(), all.Body)
	}

	sug, err := c.SuggestWithResponse(ctx, &soomcareapi.SuggestParams{Q: "천"})
	if err != nil {
		t.Fatalf("suggest: %v", err)
	}
	if sug.StatusCode() != http.StatusOK || sug.JSON200 == nil {
		t.Fatalf("suggest: %d %s", sug.StatusCode(), sug.Body)
	}
	for _, s := range sug.JSON200.Suggestions {
		if s.Text == "" || s.Type == "" {
			t.Errorf("suggestion without text or type: %+v", s)
		}
	}

	bad, err := c.SearchContentsWithResponse(ctx, &soomcareapi.SearchContentsParams{Q: " "})
	if err != nil {
		t.Fatalf("blank search: %v", err)
	}
	if bad.StatusCode() != http.StatusBadRequest || bad.JSON400 == nil || bad.JSON400.Code != "query_required" {
		t.Fatalf("blank search: %d %s, want 400 query_required decoded", bad.StatusCode(), bad.Body)
	}
}
