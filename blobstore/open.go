package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/soomcare/soomcare/config"
)

// Store is what Local and S3 share: content.Store takes either.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Get(ctx context.Context, key string) (*Object, error)
}

var (
	_ Store = (*Local)(nil)
	_ Store = (*S3)(nil)
)

// Open opens the store of uploads.backend. The local directory is created
// now. An S3 bucket is checked once: a store that answers that the bucket
// is missing or refuses the credentials is an error (a deployment error:
// `serve` stops, exit 2, naming the key); one that does not answer only
// warns on log, since images are not on the app's critical path: uploads
// and image reads answer 503 until it is back.
func Open(ctx context.Context, c config.Uploads, log *slog.Logger) (Store, error) {
	if c.Backend != config.UploadsBackendS3 {
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("uploads.dir %s: %w", c.Dir, err)
		}
		return NewLocal(c.Dir), nil
	}
	secret, err := c.S3.Secret()
	if err != nil {
		return nil, &config.Error{Key: "uploads.s3.secret_key_file", Reason: err.Error()}
	}
	s, err := NewS3(S3Config{Endpoint: c.S3.Endpoint, Bucket: c.S3.Bucket, Region: c.S3.Region,
		AccessKey: c.S3.AccessKey, SecretKey: secret, PathStyle: c.S3.PathStyle, Timeout: c.S3.Timeout})
	if err != nil {
		return nil, &config.Error{Key: "uploads.s3.endpoint", Reason: err.Error()}
	}
	switch err := s.Check(ctx); {
	case errors.Is(err, ErrUnavailable):
		log.Warn("uploads: the object store does not answer; image uploads and reads answer 503 until it does",
			"endpoint", c.S3.Endpoint, "bucket", c.S3.Bucket, "err", err.Error())
	case err != nil:
		return nil, &config.Error{Key: "uploads.s3", Reason: err.Error()}
	default:
		log.Info("uploads: object store", "endpoint", c.S3.Endpoint, "bucket", c.S3.Bucket)
	}
	return s, nil
}
