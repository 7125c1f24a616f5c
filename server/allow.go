package server

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// allowIndex answers which methods serve a path, for the Allow header of a
// 405. Gin computes one too, but reuses the first lookup's skipped nodes
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

// methods lists, sorted, the methods with a route matching path.
func (a *allowIndex) methods(path string) []string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, r := range a.routes {
		if !slices.Contains(out, r.method) && matches(r.parts, parts) {
			out = append(out, r.method)
		}
	}
	slices.Sort(out)
	return out
}

// matches reports whether a route pattern's segments match a path's
// (":name" one segment, "*name" the rest).
func matches(pattern, path []string) bool {
	for i, p := range pattern {
		if strings.HasPrefix(p, "*") {
			return true
		}
		if i >= len(path) || (!strings.HasPrefix(p, ":") && p != path[i]) || (strings.HasPrefix(p, ":") && path[i] == "") {
			return false
		}
	}
	return len(pattern) == len(path)
}

// methodNotAllowed answers 405 with the right Allow header.
func (s *Server) methodNotAllowed(c *gin.Context) {
	if m := s.allow.methods(c.Request.URL.Path); len(m) > 0 {
		c.Header("Allow", strings.Join(m, ", "))
	}
	web.MethodNotAllowed(c)
}
