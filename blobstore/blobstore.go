// Package blobstore keeps uploaded files (editors' images) by key: on a local
// directory (Local, the default for one machine) or in a bucket of an
// S3-compatible object store (S3, for several API replicas behind a load
// balancer, which must all see every file).
//
// Keys are flat names chosen by the caller (content uses 32 hex digits and
// an extension); a store never lists, replaces or deletes.
package blobstore

import (
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound is returned by Get for a key that holds nothing.
	ErrNotFound = errors.New("blobstore: not found")
	// ErrExists is returned by Put for a key that already holds a file:
	// a store never replaces one.
	ErrExists = errors.New("blobstore: key exists")
	// ErrUnavailable wraps every failure of a remote store (unreachable,
	// too slow, refusing our credentials): the caller answers 503 and logs
	// the cause; the store's own message never reaches a client.
	ErrUnavailable = errors.New("blobstore: store unavailable")
)

// Object is one stored file. Body is seekable so http.ServeContent can
// answer range and conditional requests; the caller closes it.
type Object struct {
	Body        io.ReadSeekCloser
	Size        int64
	ModTime     time.Time
	ContentType string // as given to Put; empty from Local
}
