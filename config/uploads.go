package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Uploads configures editor image uploads.
type Uploads struct {
	Backend   string    `mapstructure:"backend"`    // local | s3
	Dir       string    `mapstructure:"dir"`        // local directory the files are stored in (backend local)
	URLPrefix string    `mapstructure:"url_prefix"` // path they are served under by `serve`
	MaxBytes  int64     `mapstructure:"max_bytes"`  // largest image accepted
	S3        UploadsS3 `mapstructure:"s3"`         // backend s3
}

// Upload backends.
const (
	UploadsBackendLocal = "local"
	UploadsBackendS3    = "s3"
)

// UploadsS3 addresses the bucket of an S3-compatible object store.
type UploadsS3 struct {
	Endpoint      string        `mapstructure:"endpoint"` // http(s)://host[:port]
	Bucket        string        `mapstructure:"bucket"`
	Region        string        `mapstructure:"region"`
	AccessKey     string        `mapstructure:"access_key"`
	SecretKey     string        `mapstructure:"secret_key"`      // from SOOMCARE_UPLOADS_S3_SECRET_KEY; masked in logs
	SecretKeyFile string        `mapstructure:"secret_key_file"` // or a file holding it (a mounted secret)
	PathStyle     bool          `mapstructure:"path_style"`
	Timeout       time.Duration `mapstructure:"timeout"`
}

// Secret returns the secret key: secret_key, or the trimmed content of
// secret_key_file.
func (s UploadsS3) Secret() (string, error) {
	if s.SecretKeyFile == "" {
		return s.SecretKey, nil
	}
	b, err := os.ReadFile(s.SecretKeyFile)
	if err != nil {
		return "", fmt.Errorf("cannot be read: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// uploadsDefaults are the uploads section's defaults.
func uploadsDefaults() map[string]any {
	return map[string]any{
		"uploads.dir":                "data/uploads",
		"uploads.url_prefix":         "/uploads",
		"uploads.max_bytes":          960 << 10,
		"uploads.backend":            UploadsBackendLocal,
		"uploads.s3.endpoint":        "",
		"uploads.s3.bucket":          "",
		"uploads.s3.region":          "us-east-1",
		"uploads.s3.access_key":      "",
		"uploads.s3.secret_key":      "",
		"uploads.s3.secret_key_file": "",
		"uploads.s3.path_style":      false,
		"uploads.s3.timeout":         "10s",
	}
}

// validateUploads checks the uploads section: directory, URL prefix, size.
func (c *Config) validateUploads(bad func(key, format string, args ...any)) {
	if strings.TrimSpace(c.Uploads.Dir) == "" {
		bad("uploads.dir", "must name a directory for uploaded images")
	}
	if !strings.HasPrefix(c.Uploads.URLPrefix, "/") || len(c.Uploads.URLPrefix) < 2 || strings.HasSuffix(c.Uploads.URLPrefix, "/") || strings.HasPrefix(c.Uploads.URLPrefix, "/v1") {
		bad("uploads.url_prefix", "must be a path such as /uploads (leading slash, no trailing slash, not under /v1) (got %q)", c.Uploads.URLPrefix)
	}
	if c.Uploads.MaxBytes < 1024 || c.Uploads.MaxBytes > 100<<20 {
		bad("uploads.max_bytes", "must be between 1024 and 104857600 bytes (got %d); http.max_body_bytes caps every request body too", c.Uploads.MaxBytes)
	}
	switch c.Uploads.Backend {
	case UploadsBackendLocal:
	case UploadsBackendS3:
		c.validateUploadsS3(bad)
	default:
		bad("uploads.backend", "must be one of local, s3 (got %q)", c.Uploads.Backend)
	}
}

// validateUploadsS3 checks the uploads.s3 section (backend s3 only). No
// message quotes the secret.
func (c *Config) validateUploadsS3(bad func(key, format string, args ...any)) {
	s := c.Uploads.S3
	if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		bad("uploads.s3.endpoint", "must be the store's URL http(s)://host[:port], nothing after the host, no credentials (got %q)", s.Endpoint)
	}
	if !validBucket(s.Bucket) {
		bad("uploads.s3.bucket", "must be a bucket name: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit (got %q)", s.Bucket)
	}
	if strings.TrimSpace(s.AccessKey) == "" {
		bad("uploads.s3.access_key", "must be set with uploads.backend s3")
	}
	switch secret, err := s.Secret(); {
	case s.SecretKey != "" && s.SecretKeyFile != "":
		bad("uploads.s3.secret_key", "set either SOOMCARE_UPLOADS_S3_SECRET_KEY or uploads.s3.secret_key_file, not both")
	case err != nil:
		bad("uploads.s3.secret_key_file", "%s %v", s.SecretKeyFile, err)
	case secret == "":
		bad("uploads.s3.secret_key", "must be set with uploads.backend s3: uploads.s3.secret_key_file (a file holding it) or SOOMCARE_UPLOADS_S3_SECRET_KEY")
	}
	if s.Timeout <= 0 || s.Timeout > 5*time.Minute {
		bad("uploads.s3.timeout", "must be a duration between 1ms and 5m such as 10s (got %s)", s.Timeout)
	}
}

// validBucket reports whether b follows S3's bucket naming rules.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	for i, r := range b {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || i == len(b)-1 || (r != '.' && r != '-')) {
			return false
		}
	}
	return true
}
