package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/blobstore"
	"github.com/soomcare/soomcare/blobstore/blobstoretest"
)

func s3Config(b blobstoretest.Bucket) blobstore.S3Config {
	return blobstore.S3Config{Endpoint: b.Endpoint, Bucket: b.Name, Region: "us-east-1",
		AccessKey: b.AccessKey, SecretKey: b.SecretKey, PathStyle: true, Timeout: 2 * time.Second}
}

func newS3(t *testing.T, cfg blobstore.S3Config) *blobstore.S3 {
	t.Helper()
	s, err := blobstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIntegrationS3PutGet(t *testing.T) {
	ctx := context.Background()
	b := blobstoretest.New(t)
	s := newS3(t, s3Config(b))
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	data := bytes.Repeat([]byte("\x89PNG\r\n\x1a\n"), 100)
	if err := s.Put(ctx, "0123456789abcdef0123456789abcdef.png", bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "0123456789abcdef0123456789abcdef.png", strings.NewReader("other"), 5, "image/png"); !errors.Is(err, blobstore.ErrExists) {
		t.Errorf("a second Put of a key = %v, want ErrExists (If-None-Match: *)", err)
	}
	obj, err := s.Get(ctx, "0123456789abcdef0123456789abcdef.png")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if obj.Size != int64(len(data)) || obj.ContentType != "image/png" || obj.ModTime.IsZero() {
		t.Errorf("object = size %d type %q mod %v", obj.Size, obj.ContentType, obj.ModTime)
	}
	// http.ServeContent seeks to the end for the size and back, and seeks for ranges.
	if n, err := obj.Body.Seek(0, io.SeekEnd); err != nil || n != int64(len(data)) {
		t.Errorf("Seek end = %d %v", n, err)
	}
	obj.Body.Seek(8, io.SeekStart)
	got, err := io.ReadAll(obj.Body)
	if err != nil || !bytes.Equal(got, data[8:]) {
		t.Errorf("read after seek: %d bytes, %v", len(got), err)
	}
	if _, err := s.Get(ctx, "ffffffffffffffffffffffffffffffff.png"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("missing key: %v, want ErrNotFound", err)
	}
}

// A store that answers no stops serve (Check is not ErrUnavailable); one
// that does not answer, or too slowly, is ErrUnavailable on every call.
func TestIntegrationS3Failures(t *testing.T) {
	ctx := context.Background()
	b := blobstoretest.New(t)
	missing := s3Config(b)
	missing.Bucket = "soomcare-no-such-bucket"
	badKey := s3Config(b)
	badKey.SecretKey = "wrong-secret-value"
	for name, cfg := range map[string]blobstore.S3Config{"missing bucket": missing, "wrong secret": badKey} {
		err := newS3(t, cfg).Check(ctx)
		if err == nil || errors.Is(err, blobstore.ErrUnavailable) {
			t.Errorf("%s: Check = %v, want a definitive error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-secret-value") {
			t.Errorf("%s: the secret is in the error: %v", name, err)
		}
	}

	closed := s3Config(b)
	closed.Endpoint = "http://" + closedAddr(t)
	hung := s3Config(b)
	hung.Endpoint = "http://" + silentServer(t)
	hung.Timeout = 300 * time.Millisecond
	for name, cfg := range map[string]blobstore.S3Config{"refused": closed, "no answer": hung} {
		t.Run(name, func(t *testing.T) {
			s := newS3(t, cfg)
			start := time.Now()
			if err := s.Check(ctx); !errors.Is(err, blobstore.ErrUnavailable) {
				t.Errorf("Check = %v", err)
			}
			if err := s.Put(ctx, "a.png", strings.NewReader("x"), 1, "image/png"); !errors.Is(err, blobstore.ErrUnavailable) {
				t.Errorf("Put = %v", err)
			}
			if _, err := s.Get(ctx, "a.png"); !errors.Is(err, blobstore.ErrUnavailable) {
				t.Errorf("Get = %v", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("three calls took %v", d)
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().String()
}
