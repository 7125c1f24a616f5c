package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config addresses one bucket of an S3-compatible store.
type S3Config struct {
	Endpoint  string // http(s)://host[:port], nothing after the host
	Bucket    string
	Region    string // e.g. us-east-1; empty asks the server once per bucket
	AccessKey string
	SecretKey string // never logged
	PathStyle bool   // bucket in the path (MinIO, versitygw, most self-hosted stores) instead of the host name
	// Timeout bounds connecting and waiting for a response's headers (the
	// body of a large image may stream for longer); a Put as a whole.
	Timeout time.Duration
}

// S3 keeps files as objects of one bucket.
type S3 struct {
	c       *minio.Client
	bucket  string
	timeout time.Duration
}

// NewS3 returns a store over cfg's bucket. It makes no request: Check does.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("blobstore: endpoint must be http(s)://host[:port] (got %q)", cfg.Endpoint)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	secure := u.Scheme == "https"
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, err
	}
	tr.DialContext = (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = cfg.Timeout
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   2, // one retry: a store that is down answers 503 at once, not after ten backoffs
	})
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &S3{c: c, bucket: cfg.Bucket, timeout: cfg.Timeout}, nil
}

// Check verifies that the bucket exists and the credentials may read it. A
// store that does not answer is ErrUnavailable; one that answers no (a
// missing bucket, refused credentials) is another error, naming the S3 code.
func (s *S3) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.c.BucketExists(ctx, s.bucket)
	var r minio.ErrorResponse
	switch {
	case errors.As(err, &r) && r.StatusCode != 0 && r.StatusCode < 500:
		return fmt.Errorf("blobstore: bucket %s: the store answered %s (HTTP %d)", s.bucket, r.Code, r.StatusCode)
	case err != nil:
		return s.fail("check bucket "+s.bucket, err)
	case !ok:
		return fmt.Errorf("blobstore: bucket %s does not exist", s.bucket)
	}
	return nil
}

// Put stores r (size bytes) under key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	opts := minio.PutObjectOptions{ContentType: contentType}
	opts.SetMatchETagExcept("*") // If-None-Match: *, never replace a stored object
	_, err := s.c.PutObject(ctx, s.bucket, key, r, size, opts)
	if err != nil {
		return s.fail("put "+key, err)
	}
	return nil
}

// Get opens the object key. The body streams under ctx (the request's).
func (s *S3) Get(ctx context.Context, key string) (*Object, error) {
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("get "+key, err)
	}
	st, err := obj.Stat() // the first request: a missing key or a store that is down shows here
	if err != nil {
		obj.Close()
		return nil, s.fail("get "+key, err)
	}
	return &Object{Body: obj, Size: st.Size, ModTime: st.LastModified, ContentType: st.ContentType}, nil
}

// fail maps a client error: a missing key is ErrNotFound, a refused
// conditional put ErrExists; anything else wraps ErrUnavailable with the S3
// code and status for the log.
func (s *S3) fail(op string, err error) error {
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		if r.Code == minio.NoSuchKey || (r.StatusCode == 404 && r.Code != minio.NoSuchBucket) {
			return ErrNotFound
		}
		if r.StatusCode == 412 {
			return fmt.Errorf("%w: s3 %s", ErrExists, op)
		}
		return fmt.Errorf("%w: s3 %s: %s (HTTP %d)", ErrUnavailable, op, r.Code, r.StatusCode)
	}
	return fmt.Errorf("%w: s3 %s: %w", ErrUnavailable, op, err)
}
