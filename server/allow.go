package server

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// allowIndex answers which methods a path's resource has, for the Allow
// header of a 405. Gin computes one too, but reuses the first lookup's skipped nodes
// across its method trees, so with static and parameter routes side by side
// (/v1/contents/search next to /v1/contents/:id) it names methods that do
// not serve the path or leaves the header out.
type allowIndex struct {
	routes []route
}

type route struct {
	method string
	parts  []string
}

func newAllowIndex(routes gin.RoutesInfo) *allowIndex {
	idx := &allowIndex{}
	for _, r := range routes {
		idx.routes = append(idx.routes, route{method: r.Method, parts: strings.Split(strings.Trim(r.Path, "/"), "/")})
	}
	return idx
}

// methods lists, sorted, the methods of the resource at path: those with a
// route matching it as specifically as any route does (most static
// segments), so /v1/contents/search is GET only even though
// PATCH /v1/contents/:id would also match its shape.
func (a *allowIndex) methods(path string) []string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	best := -1
	for _, r := range a.routes {
		n, ok := match(r.parts, parts)
		switch {
		case !ok || n < best:
			continue
		case n > best:
			best, out = n, nil
		}
		if !slices.Contains(out, r.method) {
			out = append(out, r.method)
		}
	}
	slices.Sort(out)
	return out
}

// match reports whether a route pattern's segments match a path's (":name"
// one segment, "*name" the rest) and how many static segments it matched.
func match(pattern, path []string) (static int, ok bool) {
	for i, p := range pattern {
		switch {
		case strings.HasPrefix(p, "*"):
			return static, true
		case i >= len(path):
			return 0, false
		case strings.HasPrefix(p, ":"):
			if path[i] == "" {
				return 0, false
			}
		case p != path[i]:
			return 0, false
		default:
			static++
		}
	}
	return static, len(pattern) == len(path)
}

// methodNotAllowed answers 405 with the right Allow header.
func (s *Server) methodNotAllowed(c *gin.Context) {
	if m := s.allow.methods(c.Request.URL.Path); len(m) > 0 {
		c.Header("Allow", strings.Join(m, ", "))
	}
	web.MethodNotAllowed(c)
}
