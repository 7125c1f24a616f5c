package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Local keeps files in one directory of the local disk.
type Local struct {
	dir string
}

// NewLocal returns a store over dir; Put creates it when missing.
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// validKey refuses names that could leave the directory or name a
// temporary file.
func validKey(key string) bool {
	return key != "" && !strings.ContainsAny(key, `/\`) && !strings.HasPrefix(key, ".")
}

// Put writes the file through a temporary name, so a half-written file is
// never served, then links it into place, which fails rather than replace
// a stored file.
func (l *Local) Put(_ context.Context, key string, r io.Reader, _ int64, _ string) error {
	if !validKey(key) {
		return fmt.Errorf("blobstore: invalid key %q", key)
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(l.dir, "."+key+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, filepath.Join(l.dir, key)); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, key)
	} else if err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	return nil
}

// Get opens the regular file named key; anything else is ErrNotFound.
func (l *Local) Get(_ context.Context, key string) (*Object, error) {
	if !validKey(key) {
		return nil, ErrNotFound
	}
	f, err := os.Open(filepath.Join(l.dir, key))
	if err != nil {
		return nil, ErrNotFound
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, ErrNotFound
	}
	return &Object{Body: f, Size: st.Size(), ModTime: st.ModTime()}, nil
}
