// Package blobstoretest gives integration tests a fresh bucket on the
// S3-compatible server of the test environment (versitygw, started by
// `scripts/testenv.sh up`).
package blobstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/soomcare/soomcare/internal/testenv"
)

// Environment variables written by `scripts/testenv.sh env`.
const (
	EnvEndpoint  = "SOOMCARE_TEST_S3_ENDPOINT"
	EnvAccessKey = "SOOMCARE_TEST_S3_ACCESS_KEY"
	EnvSecretKey = "SOOMCARE_TEST_S3_SECRET_KEY"
)

// Bucket is a bucket of the test server with the credentials to use it.
type Bucket struct {
	Endpoint, Name, AccessKey, SecretKey string
}

// New creates bucket soomcare-test-<random> and removes it (with its
// objects) when the test ends. It skips unless integration tests are enabled.
func New(t testing.TB) Bucket {
	t.Helper()
	b := Bucket{
		Endpoint:  testenv.Require(t, EnvEndpoint),
		AccessKey: testenv.Require(t, EnvAccessKey),
		SecretKey: testenv.Require(t, EnvSecretKey),
	}
	r := make([]byte, 6)
	rand.Read(r)
	b.Name = "soomcare-test-" + hex.EncodeToString(r)
	u, err := url.Parse(b.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, ""),
		Secure: u.Scheme == "https", BucketLookup: minio.BucketLookupPath, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, b.Name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("make bucket on %s: %v", b.Endpoint, err)
	}
	t.Cleanup(func() {
		for o := range c.ListObjects(ctx, b.Name, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				c.RemoveObject(ctx, b.Name, o.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := c.RemoveBucket(ctx, b.Name); err != nil {
			t.Logf("remove bucket %s: %v", b.Name, err)
		}
	})
	return b
}
