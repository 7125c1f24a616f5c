package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/ecslog"
)

// RequestIDHeader carries a request's id in and out.
const RequestIDHeader = "X-Request-ID"

// MaxRequestIDLen is the longest X-Request-ID kept as sent.
const MaxRequestIDLen = 64

const requestIDKey = "soomcare.request_id"

// RequestID gives every request an id: the client's X-Request-ID when it is
// 1–64 characters of [A-Za-z0-9._-] (what proxies and tracing headers use),
// otherwise a new random one (32 hex digits), so a header never smuggles
// text into the logs. The id is echoed in the X-Request-ID answer header,
// written into every error envelope (request_id) and carried by the
// request's context as http.request.id, so every line logged with that
// context names it (ecslog). It must be the first middleware.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !ValidRequestID(id) {
			id = newRequestID()
		}
		c.Set(requestIDKey, id)
		c.Header(RequestIDHeader, id)
		c.Request = c.Request.WithContext(ecslog.WithAttrs(c.Request.Context(), slog.String("http.request.id", id)))
		c.Next()
	}
}

// ValidRequestID reports whether a client's id is kept as sent.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// RequestIDFrom returns the request's id ("" before RequestID ran).
func RequestIDFrom(c *gin.Context) string {
	return c.GetString(requestIDKey)
}

// maxLoggedPath bounds url.path in the access log: an unknown path is
// whatever the client sent.
const maxLoggedPath = 1024

// AccessLog logs one info line per request once the chain has answered,
// with ECS names: http.request.method, url.path (never the query, which
// holds search terms), http.response.status_code, event.duration (ns),
// client.ip (ClientAddr with proxies) and user.id when signed in; the
// request's context adds http.request.id. Put it before Recovery so a
// recovered panic's 500 is logged too.
func AccessLog(logger *slog.Logger, proxies []netip.Prefix) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		ctx := c.Request.Context()
		if !logger.Enabled(ctx, slog.LevelInfo) {
			return
		}
		path := c.Request.URL.Path
		if len(path) > maxLoggedPath {
			path = path[:maxLoggedPath]
		}
		attrs := make([]slog.Attr, 0, 6)
		attrs = append(attrs,
			slog.String("http.request.method", c.Request.Method),
			slog.String("url.path", path),
			slog.Int("http.response.status_code", c.Writer.Status()),
			ecslog.Since(start))
		if ip := ClientAddr(c.Request, proxies); ip.IsValid() {
			attrs = append(attrs, slog.String("client.ip", ip.String()))
		}
		if p, ok := PrincipalFrom(c); ok {
			attrs = append(attrs, slog.String("user.id", strconv.FormatUint(p.UserID, 10)))
		}
		logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	}
}
