package content

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/blobstore"
	"github.com/soomcare/soomcare/web"
)

// Store keeps uploaded files by key (blobstore.Local, blobstore.S3).
type Store interface {
	// Put stores size bytes of r under key; blobstore.ErrExists if the key
	// holds a file (never replaced), blobstore.ErrUnavailable when a remote
	// store failed.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens key: blobstore.ErrNotFound when it holds nothing,
	// blobstore.ErrUnavailable when a remote store failed.
	Get(ctx context.Context, key string) (*blobstore.Object, error)
}

var (
	_ Store = (*blobstore.Local)(nil)
	_ Store = (*blobstore.S3)(nil)
)

// imageType is one allowed image format: its extensions, magic bytes and
// the Content-Type it is served with.
type imageType struct {
	ext   string // canonical extension of stored files
	exts  []string
	mime  string
	match func([]byte) bool
}

var imageTypes = []imageType{
	{".jpg", []string{".jpg", ".jpeg"}, "image/jpeg", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) }},
	{".png", []string{".png"}, "image/png", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }},
	{".gif", []string{".gif"}, "image/gif", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	}},
	{".webp", []string{".webp"}, "image/webp", func(b []byte) bool {
		return len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP"))
	}},
}

// Sniff returns the allowed type of a file named name with content head:
// both the extension and the magic bytes must name the same allowed type.
func Sniff(name string, head []byte) (ext, mime string, ok bool) {
	e := strings.ToLower(filepath.Ext(name))
	for _, t := range imageTypes {
		for _, x := range t.exts {
			if x == e {
				if t.match(head) {
					return t.ext, t.mime, true
				}
				return "", "", false
			}
		}
	}
	return "", "", false
}

func unsupported() error {
	return &web.Error{Code: web.CodeUnsupportedMediaType, Message: "jpg, png, webp, gif 이미지만 올릴 수 있습니다."}
}

func tooLarge() error {
	return &web.Error{Code: web.CodeBodyTooLarge, Message: "이미지가 너무 큽니다."}
}

// storeUnavailable is the 503 of a remote store that failed; the cause is
// logged, never sent.
func storeUnavailable(cause error) *web.Error {
	return web.Unavailable(storeUnavailableMsg, cause)
}

const storeUnavailableMsg = "이미지 저장소에 일시적으로 연결할 수 없습니다. 잠시 후 다시 시도해 주세요."

// upload stores the multipart part "file" under a random name. The body is
// streamed: nothing larger than uploads.max_bytes is buffered or written.
func (a *API) upload(c *gin.Context) (web.Answer, error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return web.Answer{}, &web.Error{Code: web.CodeUnsupportedMediaType, Message: "multipart/form-data 로 file 필드에 이미지를 보내 주세요."}
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return web.Answer{}, web.BadRequest(web.CodeBadRequest, "multipart 본문이 올바르지 않습니다.")
	}
	data, filename, err := a.readFile(mr)
	if err != nil {
		return web.Answer{}, err
	}
	ext, ctype, ok := Sniff(filename, data[:min(len(data), 16)])
	if !ok {
		return web.Answer{}, unsupported()
	}
	name := randomName() + ext
	if err := a.o.Store.Put(c.Request.Context(), name, bytes.NewReader(data), int64(len(data)), ctype); err != nil {
		return web.Answer{}, err
	}
	return web.Created(gin.H{"name": name, "url": a.o.UploadURL + "/" + name, "size": len(data), "content_type": ctype}), nil
}

// readFile reads the first part named "file" (at most uploads.max_bytes).
func (a *API) readFile(mr *multipart.Reader) ([]byte, string, error) {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", web.Invalid("file", web.FieldRequired, "file 필드에 이미지를 보내 주세요.")
		}
		if err != nil {
			return nil, "", readErr(err)
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, a.o.MaxUploadBytes+1))
		switch {
		case err != nil:
			return nil, "", readErr(err)
		case int64(len(data)) > a.o.MaxUploadBytes:
			return nil, "", tooLarge()
		case len(data) == 0:
			return nil, "", web.Invalid("file", web.FieldRequired, "빈 파일입니다.")
		}
		return data, part.FileName(), nil
	}
}

func readErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge()
	}
	return web.BadRequest(web.CodeBadRequest, "multipart 본문이 올바르지 않습니다.")
}

func randomName() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// serveImage streams a stored file by its exact generated name only (32 hex
// digits + an allowed extension), so no other key of the store is reachable.
// A missing file is 404 not_found; a remote store that fails is 503
// unavailable (its message stays in the log).
func (a *API) serveImage(c *gin.Context) {
	name := c.Param("name")
	ctype, ok := storedType(name)
	if !ok {
		web.NotFound(c)
		return
	}
	obj, err := a.o.Store.Get(c.Request.Context(), name)
	switch {
	case errors.Is(err, blobstore.ErrNotFound):
		web.NotFound(c)
		return
	case errors.Is(err, blobstore.ErrUnavailable):
		a.kit.Fail(c, storeUnavailable(err))
		return
	case err != nil:
		a.kit.Fail(c, err)
		return
	}
	defer obj.Body.Close()
	c.Header("Content-Type", ctype)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(c.Writer, c.Request, "", obj.ModTime, obj.Body)
}

// storedType returns the Content-Type of a generated name, or false for any
// other name.
func storedType(name string) (string, bool) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if _, err := hex.DecodeString(base); err != nil || len(base) != 32 || strings.ToLower(base) != base {
		return "", false
	}
	for _, t := range imageTypes {
		if t.ext == ext {
			return t.mime, true
		}
	}
	return "", false
}
