package content_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/content"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

var (
	pngHead  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpegHead = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}
	gifHead  = []byte("GIF89a\x01\x00\x01\x00")
	webpHead = []byte("RIFF\x24\x00\x00\x00WEBPVP8 ")
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		head    []byte
		wantExt string
	}{
		{"a.png", pngHead, ".png"},
		{"A.JPEG", jpegHead, ".jpg"},
		{"b.jpg", jpegHead, ".jpg"},
		{"c.gif", gifHead, ".gif"},
		{"d.webp", webpHead, ".webp"},
		{"png-named-jpg.jpg", pngHead, ""},
		{"script.png", []byte("<?php echo 1; ?>"), ""},
		{"evil.svg", []byte("<svg xmlns="), ""},
		{"noext", pngHead, ""},
		{"x.exe", []byte("MZ\x90\x00"), ""},
		{"riff.webp", []byte("RIFF\x24\x00\x00\x00AVI LIST"), ""},
		{"short.gif", []byte("GIF"), ""},
	}
	for _, tt := range tests {
		ext, _, ok := content.Sniff(tt.name, tt.head)
		if ext != tt.wantExt || ok != (tt.wantExt != "") {
			t.Errorf("Sniff(%q) = %q %v, want %q", tt.name, ext, ok, tt.wantExt)
		}
	}
}

type env struct {
	t   *testing.T
	db  *sql.DB
	h   http.Handler
	v   *apidoctest.Validator
	iss *auth.TokenIssuer
	dir string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, _ := testdb.New(t)
	iss := authtest.NewIssuer(t, nil)
	dir := t.TempDir()
	api := content.New(db, content.Options{UploadDir: dir, UploadURL: "/uploads", MaxUploadBytes: 4096})
	h := server.New(config.HTTP{MaxBodyBytes: 64 << 10}, slog.New(slog.DiscardHandler), nil, auth.Use(iss), api.Mount).Handler()
	return &env{t: t, db: db, h: h, v: apidoctest.New(t), iss: iss, dir: dir}
}

func (e *env) user(nick, role string) string {
	e.t.Helper()
	res, err := e.db.Exec(`INSERT INTO users (nickname, role) VALUES (?, ?)`, nick, role)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	tok, _, _ := e.iss.Issue(web.Principal{UserID: uint64(id), Role: role})
	return tok
}

func (e *env) send(req *http.Request, tok string) (int, map[string]any, *httptest.ResponseRecorder) {
	e.t.Helper()
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := e.v.Serve(e.t, e.h, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out, rec
}

func (e *env) do(method, path, tok string, body any) (int, map[string]any) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	st, out, _ := e.send(req, tok)
	return st, out
}

func code(b map[string]any) string { s, _ := b["code"].(string); return s }

func TestContentRolesAndDrafts(t *testing.T) {
	e := newEnv(t)
	editor := e.user("편집자", "editor")
	admin := e.user("관리자", "admin")
	user := e.user("환자", "user")
	article := map[string]any{"title": "흡입기 올바르게 쓰기", "body": "1. 숨을 내쉽니다.\n2. ...", "category": "약물", "tags": []string{"흡입기", "ICS", "흡입기"}}

	for _, tt := range []struct {
		name, method, path, tok string
		status                  int
		code                    string
	}{
		{"user creates", "POST", "/v1/contents", user, 403, "forbidden"},
		{"anonymous creates", "POST", "/v1/contents", "", 401, "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if st, body := e.do(tt.method, tt.path, tt.tok, article); st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v", st, body)
			}
		})
	}
	st, draft := e.do("POST", "/v1/contents", editor, article)
	if st != 201 || draft["status"] != "draft" || draft["published_at"] != nil || len(draft["tags"].([]any)) != 2 {
		t.Fatalf("create %d %v", st, draft)
	}
	path := fmt.Sprintf("/v1/contents/%v", draft["id"])
	for _, tt := range []struct {
		name, method, tok string
		body              any
		status            int
		code              string
	}{
		{"user reads draft", "GET", user, nil, 404, "not_found"},
		{"anonymous reads draft", "GET", "", nil, 404, "not_found"},
		{"user edits", "PATCH", user, map[string]any{"status": "published"}, 403, "forbidden"},
		{"user deletes", "DELETE", user, nil, 403, "forbidden"},
		{"bad status", "PATCH", editor, map[string]any{"status": "live"}, 400, "validation_failed"},
		{"empty title", "PATCH", editor, map[string]any{"title": "  "}, 400, "validation_failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if st, body := e.do(tt.method, path, tt.tok, tt.body); st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v", st, body)
			}
		})
	}
	if st, body := e.do("GET", path, editor, nil); st != 200 || body["status"] != "draft" {
		t.Errorf("editor reads draft: %d %v", st, body)
	}
	st, pub := e.do("PATCH", path, admin, map[string]any{"status": "published"})
	if st != 200 || pub["status"] != "published" || pub["published_at"] == nil {
		t.Fatalf("publish %d %v", st, pub)
	}
	if st, body := e.do("GET", path, "", nil); st != 200 || body["title"] != "흡입기 올바르게 쓰기" {
		t.Errorf("public read: %d %v", st, body)
	}
	if st, body := e.do("PATCH", path, editor, map[string]any{"status": "draft"}); st != 200 || body["published_at"] != pub["published_at"] {
		t.Errorf("unpublish keeps published_at: %d %v", st, body)
	}
	if st, _ := e.do("DELETE", path, editor, nil); st != 204 {
		t.Errorf("delete %d", st)
	}
	if st, _ := e.do("GET", path, editor, nil); st != 404 {
		t.Errorf("deleted: %d", st)
	}
	if st, _ := e.do("DELETE", path, editor, nil); st != 404 {
		t.Errorf("delete twice: %d", st)
	}
}

func multipartReq(t *testing.T, field, filename string, data []byte) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	req := httptest.NewRequest("POST", "/v1/uploads/images", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}

func TestImageUpload(t *testing.T) {
	e := newEnv(t)
	editor := e.user("편집자", "editor")
	user := e.user("환자", "user")
	png := append(append([]byte{}, pngHead...), bytes.Repeat([]byte{1}, 100)...)

	st, body, _ := e.send(multipartReq(t, "file", "photo.PNG", png), editor)
	if st != 201 || body["content_type"] != "image/png" || body["size"] != float64(len(png)) {
		t.Fatalf("upload %d %v", st, body)
	}
	name := body["name"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}\.png$`).MatchString(name) || strings.Contains(name, "photo") {
		t.Errorf("stored name %q is not random", name)
	}
	stored, err := os.ReadFile(filepath.Join(e.dir, name))
	if err != nil || !bytes.Equal(stored, png) {
		t.Fatalf("stored file: %v", err)
	}
	_, again, _ := e.send(multipartReq(t, "file", "photo.png", png), editor)
	if again["name"] == name {
		t.Error("two uploads got the same name")
	}
	st, _, rec := e.send(httptest.NewRequest("GET", body["url"].(string), nil), "")
	if st != 200 || rec.Header().Get("Content-Type") != "image/png" || rec.Header().Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(rec.Body.Bytes(), png) {
		t.Errorf("serve: %d %v", st, rec.Header())
	}

	tests := []struct {
		name   string
		req    *http.Request
		tok    string
		status int
		code   string
	}{
		{"user uploads", multipartReq(t, "file", "a.png", png), user, 403, "forbidden"},
		{"html named png", multipartReq(t, "file", "a.png", []byte("<html><script>alert(1)</script></html>")), editor, 415, "unsupported_media_type"},
		{"png named jpg", multipartReq(t, "file", "a.jpg", png), editor, 415, "unsupported_media_type"},
		{"svg", multipartReq(t, "file", "a.svg", []byte("<svg/>")), editor, 415, "unsupported_media_type"},
		{"too big", multipartReq(t, "file", "a.png", append(append([]byte{}, pngHead...), make([]byte, 5000)...)), editor, 413, "body_too_large"},
		{"over the body cap", multipartReq(t, "file", "a.png", append(append([]byte{}, pngHead...), make([]byte, 70<<10)...)), editor, 413, "body_too_large"},
		{"wrong field", multipartReq(t, "image", "a.png", png), editor, 400, "validation_failed"},
		{"empty file", multipartReq(t, "file", "a.png", nil), editor, 400, "validation_failed"},
		{"json body", func() *http.Request {
			r := httptest.NewRequest("POST", "/v1/uploads/images", strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), editor, 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, body, _ := e.send(tt.req, tt.tok); st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
	entries, _ := os.ReadDir(e.dir)
	if len(entries) != 2 {
		t.Errorf("%d files stored, want 2 (rejected uploads write nothing)", len(entries))
	}
	// Not a documented route at all: checked without the validator.
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/uploads/../../etc/passwd", nil))
	if rec.Code != 404 {
		t.Errorf("traversal: %d", rec.Code)
	}
	for _, p := range []string{"/uploads/" + strings.Repeat("a", 32) + ".png", "/uploads/notes.txt", "/uploads/..%2F..%2Fetc%2Fpasswd"} {
		if st, _, _ := e.send(httptest.NewRequest("GET", p, nil), ""); st != 404 {
			t.Errorf("GET %s: %d", p, st)
		}
	}
}
