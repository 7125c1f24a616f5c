package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUploadsS3Config(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "s3-secret")
	os.WriteFile(secretFile, []byte("file-secret-value\n"), 0o600)
	ok := []string{
		"SOOMCARE_UPLOADS_BACKEND=s3",
		"SOOMCARE_UPLOADS_S3_ENDPOINT=http://127.0.0.1:9000",
		"SOOMCARE_UPLOADS_S3_BUCKET=soomcare-uploads",
		"SOOMCARE_UPLOADS_S3_ACCESS_KEY=AKIAEXAMPLE",
		"SOOMCARE_UPLOADS_S3_SECRET_KEY=env-secret-value",
	}
	with := func(extra ...string) []string {
		out := append([]string{}, ok...)
		for _, e := range extra {
			name, _, _ := strings.Cut(e, "=")
			for i, o := range out {
				if strings.HasPrefix(o, name+"=") {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			out = append(out, e)
		}
		return out
	}
	tests := []struct {
		name    string
		env     []string
		wantKey string // "" = valid
	}{
		{"defaults: local", nil, ""},
		{"local ignores s3 keys", []string{"SOOMCARE_UPLOADS_S3_ENDPOINT=nonsense"}, ""},
		{"s3 complete", ok, ""},
		{"s3 with a secret file", with("SOOMCARE_UPLOADS_S3_SECRET_KEY=", "SOOMCARE_UPLOADS_S3_SECRET_KEY_FILE="+secretFile), ""},
		{"https endpoint, trailing slash", with("SOOMCARE_UPLOADS_S3_ENDPOINT=https://s3.ap-northeast-2.amazonaws.com/"), ""},
		{"unknown backend", []string{"SOOMCARE_UPLOADS_BACKEND=gcs"}, "uploads.backend"},
		{"s3 without endpoint", with("SOOMCARE_UPLOADS_S3_ENDPOINT="), "uploads.s3.endpoint"},
		{"endpoint without scheme", with("SOOMCARE_UPLOADS_S3_ENDPOINT=127.0.0.1:9000"), "uploads.s3.endpoint"},
		{"endpoint with a path", with("SOOMCARE_UPLOADS_S3_ENDPOINT=http://h:9000/bucket"), "uploads.s3.endpoint"},
		{"endpoint with credentials", with("SOOMCARE_UPLOADS_S3_ENDPOINT=http://k:s@h:9000"), "uploads.s3.endpoint"},
		{"no bucket", with("SOOMCARE_UPLOADS_S3_BUCKET="), "uploads.s3.bucket"},
		{"bucket upper case", with("SOOMCARE_UPLOADS_S3_BUCKET=Uploads"), "uploads.s3.bucket"},
		{"bucket too short", with("SOOMCARE_UPLOADS_S3_BUCKET=ab"), "uploads.s3.bucket"},
		{"bucket ends with a hyphen", with("SOOMCARE_UPLOADS_S3_BUCKET=uploads-"), "uploads.s3.bucket"},
		{"bucket with ..", with("SOOMCARE_UPLOADS_S3_BUCKET=a..b"), "uploads.s3.bucket"},
		{"no access key", with("SOOMCARE_UPLOADS_S3_ACCESS_KEY="), "uploads.s3.access_key"},
		{"no secret", with("SOOMCARE_UPLOADS_S3_SECRET_KEY="), "uploads.s3.secret_key"},
		{"secret and secret file", with("SOOMCARE_UPLOADS_S3_SECRET_KEY_FILE=" + secretFile), "uploads.s3.secret_key"},
		{"unreadable secret file", with("SOOMCARE_UPLOADS_S3_SECRET_KEY=", "SOOMCARE_UPLOADS_S3_SECRET_KEY_FILE=/nonexistent/secret"), "uploads.s3.secret_key_file"},
		{"zero timeout", with("SOOMCARE_UPLOADS_S3_TIMEOUT=0s"), "uploads.s3.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", tt.env)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if m := c.Masked(); m.Uploads.S3.SecretKey != "" && m.Uploads.S3.SecretKey != "****" {
					t.Errorf("Masked keeps the secret: %q", m.Uploads.S3.SecretKey)
				}
				return
			}
			var e *Error
			if err == nil || !IsConfigError(err) {
				t.Fatalf("Load = %v, want an error on %s", err, tt.wantKey)
			}
			if e = err.(*Error); e.Key != tt.wantKey {
				t.Errorf("error on %s (%v), want %s", e.Key, err, tt.wantKey)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	c, err := Load("", with("SOOMCARE_UPLOADS_S3_SECRET_KEY=", "SOOMCARE_UPLOADS_S3_SECRET_KEY_FILE="+secretFile))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.Uploads.S3.Secret(); s != "file-secret-value" || err != nil {
		t.Errorf("Secret() from the file = %q %v", s, err)
	}
	if c.Uploads.S3.Region != "us-east-1" || c.Uploads.S3.Timeout.Seconds() != 10 || c.Uploads.S3.PathStyle {
		t.Errorf("defaults = %+v", c.Uploads.S3)
	}
}
