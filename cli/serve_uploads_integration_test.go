package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/blobstore/blobstoretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/web"
)

// uploadsEnv is what the API replicas of one test share: a database with an
// editor, the JWT secret and the editor's token.
type uploadsEnv struct {
	base  []string // environment of every replica
	token string
}

func newUploadsEnv(t *testing.T) uploadsEnv {
	t.Helper()
	db, dsn := testdb.New(t)
	res, err := db.Exec(`INSERT INTO users (nickname, role) VALUES ('편집자', 'editor')`)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	secret := make([]byte, 24)
	rand.Read(secret)
	jwtSecret := hex.EncodeToString(secret)
	iss, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: []byte(jwtSecret), Issuer: "soomcare", AccessTTL: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := iss.Issue(web.Principal{UserID: uint64(id), Role: web.RoleEditor})
	if err != nil {
		t.Fatal(err)
	}
	return uploadsEnv{token: tok, base: []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + testenv.OpenSearchURL(t),
		"SOOMCARE_SEARCH_MAX_RETRIES=0",
		"SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
		"SOOMCARE_AUTH_JWT_SECRET=" + jwtSecret,
	}}
}

// s3Env points a replica at a bucket.
func s3Env(endpoint, bucket, access, secret string) []string {
	return []string{"SOOMCARE_UPLOADS_BACKEND=s3", "SOOMCARE_UPLOADS_S3_ENDPOINT=" + endpoint, "SOOMCARE_UPLOADS_S3_BUCKET=" + bucket,
		"SOOMCARE_UPLOADS_S3_ACCESS_KEY=" + access, "SOOMCARE_UPLOADS_S3_SECRET_KEY=" + secret,
		"SOOMCARE_UPLOADS_S3_PATH_STYLE=true", "SOOMCARE_UPLOADS_S3_TIMEOUT=2s"}
}

// replica runs one in-process `soomcare serve` (an API replica) and returns
// its base URL and stderr.
func (u uploadsEnv) replica(t *testing.T, extra ...string) (string, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	environ := append(append(append([]string{}, u.base...), extra...), "SOOMCARE_HTTP_ADDR="+addr)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, &bytes.Buffer{}, stderr, environ) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s")
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base, stderr
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not answer /healthz: %s", stderr.String())
	return "", nil
}

var testPNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0x5a}, 2000)...)

// upload posts testPNG to base and returns the status and the decoded body.
func (u uploadsEnv) upload(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", "photo.png")
	fw.Write(testPNG)
	w.Close()
	req, _ := http.NewRequest("POST", base+"/v1/uploads/images", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+u.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

type fetched struct {
	status int
	header http.Header
	body   []byte
}

func (f fetched) code() string {
	var e struct{ Code string }
	json.Unmarshal(f.body, &e)
	return e.Code
}

func fetch(t *testing.T, url string) fetched {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return fetched{res.StatusCode, res.Header, b}
}

// Two replicas behind a load balancer: an image uploaded through one is
// served by the other only when they share the store. With the local
// backend (one directory per machine) the second answers 404: the failure
// the s3 backend exists for.
func TestIntegrationUploadsSharedByTwoReplicas(t *testing.T) {
	tests := []struct {
		name      string
		stores    func(t *testing.T) (a, b []string) // each replica's uploads settings
		wantCross int
	}{
		{"local directory per replica", func(t *testing.T) ([]string, []string) {
			return []string{"SOOMCARE_UPLOADS_DIR=" + t.TempDir()}, []string{"SOOMCARE_UPLOADS_DIR=" + t.TempDir()}
		}, http.StatusNotFound},
		{"one s3 bucket", func(t *testing.T) ([]string, []string) {
			b := blobstoretest.New(t)
			env := s3Env(b.Endpoint, b.Name, b.AccessKey, b.SecretKey)
			return env, env
		}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUploadsEnv(t)
			storeA, storeB := tt.stores(t)
			a, _ := u.replica(t, storeA...)
			b, _ := u.replica(t, storeB...)
			st, body := u.upload(t, a)
			if st != http.StatusCreated {
				t.Fatalf("upload through A: %d %v", st, body)
			}
			path := body["url"].(string)
			if got := fetch(t, a+path); got.status != http.StatusOK || !bytes.Equal(got.body, testPNG) {
				t.Fatalf("A serves its own upload: %d", got.status)
			}
			got := fetch(t, b+path)
			if got.status != tt.wantCross {
				t.Fatalf("B serves A's upload: %d %s, want %d", got.status, got.body, tt.wantCross)
			}
			if tt.wantCross != http.StatusOK {
				return
			}
			if !bytes.Equal(got.body, testPNG) || got.header.Get("Content-Type") != "image/png" ||
				got.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || got.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("B's answer: %d bytes, headers %v", len(got.body), got.header)
			}
			req, _ := http.NewRequest("GET", b+path, nil)
			req.Header.Set("Range", "bytes=8-15")
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusPartialContent {
				t.Errorf("range request: %v %v", res, err)
			} else {
				part, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !bytes.Equal(part, testPNG[8:16]) {
					t.Errorf("range bytes=8-15 = %x", part)
				}
			}
			req, _ = http.NewRequest("GET", b+path, nil)
			req.Header.Set("If-Modified-Since", got.header.Get("Last-Modified"))
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotModified {
				t.Errorf("If-Modified-Since %q: %v %v", got.header.Get("Last-Modified"), res, err)
			} else {
				res.Body.Close()
			}
			if st, body := u.upload(t, b); st != http.StatusCreated || fetch(t, a+body["url"].(string)).status != http.StatusOK {
				t.Errorf("upload through B, read through A: %d %v", st, body)
			}
			missing := fetch(t, b+"/uploads/"+strings.Repeat("e", 32)+".png")
			if missing.status != http.StatusNotFound || missing.code() != "not_found" {
				t.Errorf("missing key: %d %s", missing.status, missing.body)
			}
		})
	}
}

// A store that answers no at start (missing bucket, refused credentials)
// stops serve with the key and the S3 code, never the secret.
func TestIntegrationUploadsServeRefusesBadBucket(t *testing.T) {
	b := blobstoretest.New(t)
	u := newUploadsEnv(t)
	tests := []struct{ name, bucket, secret, want string }{
		{"missing bucket", "soomcare-no-such-bucket", b.SecretKey, "uploads.s3: blobstore: bucket soomcare-no-such-bucket does not exist"},
		{"wrong secret", b.Name, "wrong-secret-value", "uploads.s3: blobstore: bucket " + b.Name + ": the store answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := append(append([]string{}, u.base...), s3Env(b.Endpoint, tt.bucket, b.AccessKey, tt.secret)...)
			environ = append(environ, "SOOMCARE_HTTP_ADDR="+freeAddr(t))
			code, _, stderr := run(t, environ, "serve")
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant %q", code, stderr, tt.want)
			}
			if strings.Contains(stderr, "wrong-secret-value") || strings.Contains(stderr, b.SecretKey) {
				t.Errorf("the secret reached the log:\n%s", stderr)
			}
		})
	}
}

// The store goes down under a running replica, then comes back: images and
// uploads answer 503 unavailable meanwhile (never a 500, never the store's
// message), and the same image is served again once it is back.
func TestIntegrationUploadsStoreDown(t *testing.T) {
	bin := testenv.Require(t, "SOOMCARE_TEST_VERSITYGW_BIN")
	gw := startGateway(t, bin, freeAddr(t), t.TempDir())
	u := newUploadsEnv(t)
	base, stderr := u.replica(t, s3Env("http://"+gw.addr, "uploads", gw.access, gw.secret)...)
	st, body := u.upload(t, base)
	if st != http.StatusCreated {
		t.Fatalf("upload: %d %v", st, body)
	}
	path := body["url"].(string)

	gw.stop(t)
	start := time.Now()
	got := fetch(t, base+path)
	st, up := u.upload(t, base)
	took := time.Since(start)
	for name, r := range map[string]struct {
		status int
		code   string
		raw    string
	}{"image": {got.status, got.code(), string(got.body)}, "upload": {st, uploadCode(up), asJSON(up)}} {
		if r.status != http.StatusServiceUnavailable || r.code != "unavailable" {
			t.Errorf("%s while the store is down: %d %s, want 503 unavailable", name, r.status, r.raw)
		}
		for _, leak := range []string{gw.addr, "dial", "refused", "s3", "uploads/"} {
			if strings.Contains(r.raw, leak) {
				t.Errorf("%s: the store's message reached the client (%q): %s", name, leak, r.raw)
			}
		}
	}
	t.Logf("two requests with the store down answered in %v", took.Round(time.Millisecond))
	if !strings.Contains(stderr.String(), "blobstore: store unavailable") {
		t.Errorf("the cause is not logged:\n%s", stderr.String())
	}

	gw.restart(t)
	if got := fetch(t, base+path); got.status != http.StatusOK || !bytes.Equal(got.body, testPNG) {
		t.Errorf("store back: %d %s", got.status, got.body)
	}
}

func uploadCode(b map[string]any) string { s, _ := b["code"].(string); return s }

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// gateway is a private versitygw this test may stop (the shared one is
// never stopped).
type gateway struct {
	bin, addr, dir, access, secret string
	cmd                            *exec.Cmd
}

func startGateway(t *testing.T, bin, addr, dir string) *gateway {
	t.Helper()
	g := &gateway{bin: bin, addr: addr, dir: dir, access: "private-test", secret: "private-test-secret"}
	g.restart(t)
	t.Cleanup(func() { g.stop(t) })
	c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(g.access, g.secret, ""), BucketLookup: minio.BucketLookupPath, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(context.Background(), "uploads", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *gateway) restart(t *testing.T) {
	t.Helper()
	g.cmd = exec.Command(g.bin, "--quiet", "--port", g.addr, "posix", g.dir)
	g.cmd.Env = []string{"ROOT_ACCESS_KEY=" + g.access, "ROOT_SECRET_KEY=" + g.secret}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get("http://" + g.addr + "/"); err == nil {
			res.Body.Close()
			return
		}
	}
	t.Fatalf("versitygw did not listen on %s", g.addr)
}

func (g *gateway) stop(t *testing.T) {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	g.cmd.Process.Kill()
	g.cmd.Wait()
	g.cmd = nil
}
