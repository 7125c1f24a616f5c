package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/soomcare/soomcare/blobstore"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/content"
)

// uploadStore opens the store of uploads.backend. The local directory is
// created now. An S3 bucket is checked once: a store that answers that the
// bucket is missing or refuses the credentials stops `serve` (a deployment
// error); one that does not answer only warns, since images are not on the
// app's critical path: uploads and image reads answer 503 until it is back.
func uploadStore(ctx context.Context, c config.Uploads, log *slog.Logger) (content.Store, error) {
	if c.Backend != config.UploadsBackendS3 {
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("uploads.dir %s: %w", c.Dir, err)
		}
		return blobstore.NewLocal(c.Dir), nil
	}
	secret, err := c.S3.Secret()
	if err != nil {
		return nil, &config.Error{Key: "uploads.s3.secret_key_file", Reason: err.Error()}
	}
	s, err := blobstore.NewS3(blobstore.S3Config{Endpoint: c.S3.Endpoint, Bucket: c.S3.Bucket, Region: c.S3.Region,
		AccessKey: c.S3.AccessKey, SecretKey: secret, PathStyle: c.S3.PathStyle, Timeout: c.S3.Timeout})
	if err != nil {
		return nil, &config.Error{Key: "uploads.s3.endpoint", Reason: err.Error()}
	}
	switch err := s.Check(ctx); {
	case errors.Is(err, blobstore.ErrUnavailable):
		log.Warn("uploads: the object store does not answer; image uploads and reads answer 503 until it does",
			"endpoint", c.S3.Endpoint, "bucket", c.S3.Bucket, "err", err.Error())
	case err != nil:
		return nil, &config.Error{Key: "uploads.s3", Reason: err.Error()}
	default:
		log.Info("uploads: object store", "endpoint", c.S3.Endpoint, "bucket", c.S3.Bucket)
	}
	return s, nil
}
