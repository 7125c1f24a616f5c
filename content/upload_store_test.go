package content_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/blobstore"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/content"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

// memStore is a Store in memory whose failures the test chooses.
type memStore struct {
	mu    sync.Mutex
	files map[string][]byte
	err   error // returned by every call when set
}

func (m *memStore) Put(_ context.Context, key string, r io.Reader, size int64, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	b, err := io.ReadAll(r)
	if err != nil || int64(len(b)) != size {
		return fmt.Errorf("short put: %v", err)
	}
	m.files[key] = b
	return nil
}

func (m *memStore) Get(_ context.Context, key string) (*blobstore.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	b, ok := m.files[key]
	if !ok {
		return nil, blobstore.ErrNotFound
	}
	return &blobstore.Object{Body: nopCloser{bytes.NewReader(b)}, Size: int64(len(b)), ModTime: time.Unix(1700000000, 0)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// TestUploadStoreFailures: the handlers answer from whatever Store they are
// given; a remote store that fails is 503 unavailable with none of its
// message, a missing key 404 not_found, any other store error 500.
func TestUploadStoreFailures(t *testing.T) {
	iss := authtest.NewIssuer(t, nil)
	store := &memStore{files: map[string][]byte{}}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	api := content.New(nil, content.Options{Store: store, UploadURL: "/uploads", MaxUploadBytes: 4096, Logger: log})
	h := server.New(config.HTTP{MaxBodyBytes: 64 << 10}, log, nil, auth.Use(iss), api.Mount).Handler()
	v := apidoctest.New(t)
	editor, _, _ := iss.Issue(web.Principal{UserID: 1, Role: web.RoleEditor})
	png := append(append([]byte{}, pngHead...), bytes.Repeat([]byte{7}, 50)...)

	send := func(req *http.Request) (*httptest.ResponseRecorder, map[string]any) {
		t.Helper()
		if req.Method == "POST" {
			req.Header.Set("Authorization", "Bearer "+editor)
		}
		rec := v.Serve(t, h, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec, out
	}
	rec, body := send(multipartReq(t, "file", "a.png", png))
	if rec.Code != 201 {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	url := body["url"].(string)
	if rec, _ := send(httptest.NewRequest("GET", url, nil)); rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), png) ||
		rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("serve from the store: %d %v", rec.Code, rec.Header())
	}

	secret := "dial tcp 10.0.0.9:9000: connect: connection refused AccessDenied bucket-xyz"
	tests := []struct {
		name   string
		err    error
		req    func() *http.Request
		status int
		code   string
	}{
		{"missing key", nil, func() *http.Request {
			return httptest.NewRequest("GET", "/uploads/"+strings.Repeat("b", 32)+".png", nil)
		}, 404, "not_found"},
		{"get, store down", fmt.Errorf("%w: %s", blobstore.ErrUnavailable, secret), func() *http.Request { return httptest.NewRequest("GET", url, nil) }, 503, "unavailable"},
		{"put, store down", fmt.Errorf("%w: %s", blobstore.ErrUnavailable, secret), func() *http.Request { return multipartReq(t, "file", "a.png", png) }, 503, "unavailable"},
		{"put, other failure", errors.New("disk full"), func() *http.Request { return multipartReq(t, "file", "a.png", png) }, 500, "internal"},
		{"rejected before the store", fmt.Errorf("%w: %s", blobstore.ErrUnavailable, secret), func() *http.Request { return multipartReq(t, "file", "a.png", []byte("<html>")) }, 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.mu.Lock()
			store.err = tt.err
			store.mu.Unlock()
			rec, body := send(tt.req())
			if rec.Code != tt.status || body["code"] != tt.code {
				t.Errorf("%d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if strings.Contains(rec.Body.String(), "refused") || strings.Contains(rec.Body.String(), "bucket-xyz") {
				t.Errorf("the store's message reached the client: %s", rec.Body)
			}
		})
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the cause of a 503 is not logged:\n%s", logs.String())
	}
}
