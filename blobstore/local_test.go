package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/blobstore"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "uploads") // created by the first Put
	s := blobstore.NewLocal(dir)
	data := []byte("\x89PNG\r\n\x1a\nimage")
	if err := s.Put(ctx, "a.png", bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a.png", strings.NewReader("other"), 5, "image/png"); !errors.Is(err, blobstore.ErrExists) {
		t.Errorf("a second Put of a key = %v, want ErrExists", err)
	}
	obj, err := s.Get(ctx, "a.png")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, data) || obj.Size != int64(len(data)) || obj.ModTime.IsZero() {
		t.Errorf("Get = %q size %d mod %v", got, obj.Size, obj.ModTime)
	}
	os.Mkdir(filepath.Join(dir, "sub.png"), 0o755)
	os.WriteFile(filepath.Join(filepath.Dir(dir), "outside.png"), data, 0o644)
	for _, key := range []string{"missing.png", "", "../outside.png", "sub.png", ".a.png.tmp", `..\outside.png`} {
		if _, err := s.Get(ctx, key); !errors.Is(err, blobstore.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
		}
	}
	for _, key := range []string{"../x.png", "a/b.png", ".hidden", ""} {
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), ""); err == nil {
			t.Errorf("Put(%q) accepted", key)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // a.png and sub.png: no temporary file left
		t.Errorf("%d entries in the directory, want 2", len(entries))
	}
}
