package content

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
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
	if err := a.store(name, data); err != nil {
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

// store writes the file without ever replacing one (O_EXCL), through a
// temporary name so a half-written file is never served.
func (a *API) store(name string, data []byte) error {
	if err := os.MkdirAll(a.o.UploadDir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(a.o.UploadDir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(a.o.UploadDir, name))
}

func randomName() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// serveImage serves a stored file by its exact generated name only (32 hex
// digits + an allowed extension), so no other path of the disk is reachable.
func (a *API) serveImage(c *gin.Context) {
	name := c.Param("name")
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	var ctype string
	for _, t := range imageTypes {
		if t.ext == ext {
			ctype = t.mime
		}
	}
	if _, err := hex.DecodeString(base); err != nil || len(base) != 32 || ctype == "" || strings.ToLower(base) != base {
		web.NotFound(c)
		return
	}
	f, err := os.Open(filepath.Join(a.o.UploadDir, name))
	if err != nil {
		web.NotFound(c)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		web.NotFound(c)
		return
	}
	c.Header("Content-Type", ctype)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(c.Writer, c.Request, "", st.ModTime(), f)
}
