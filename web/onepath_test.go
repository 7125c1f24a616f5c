package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every error answer of every process goes through fail.go (the envelope,
// its status from the code): no other non-test code writes an error status
// or body. This walks the module's non-test Go files for the other ways.
func TestOneErrorWritePath(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || rel == filepath.Join("web", "fail.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = append(found, errorWrites(t, rel, string(src))...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range found {
		t.Errorf("%s: an error written outside web/fail.go (use web.Fail, web.FailWith or web.WriteError, or return the error from a Kit handler)", w)
	}
}

// The scanner itself: each way of writing an error it must see, and the
// success answers it must let be.
func TestErrorWritesScanner(t *testing.T) {
	cases := []struct {
		name, body string
		want       int
	}{
		{"gin abort with JSON", `c.AbortWithStatusJSON(http.StatusServiceUnavailable, x)`, 1},
		{"gin abort with status", `c.AbortWithStatus(401)`, 1},
		{"gin abort with error", `c.AbortWithError(500, err)`, 1},
		{"net/http Error", `http.Error(w, "no", 500)`, 1},
		{"raw WriteHeader", `rw.WriteHeader(http.StatusServiceUnavailable)`, 1},
		{"raw WriteHeader literal", `rw.WriteHeader(404)`, 1},
		{"gin JSON with an error status", `c.JSON(http.StatusBadRequest, gin.H{"error": "x"})`, 1},
		{"gin Data with an error status", `c.Data(500, "text/plain", nil)`, 1},
		{"gin JSON 200", `c.JSON(http.StatusOK, x)`, 0},
		{"WriteHeader 204", `rw.WriteHeader(http.StatusNoContent)`, 0},
		{"a variable status", `c.Data(a.Status, "application/json", b)`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "package x\nfunc f() {\n" + tc.body + "\n}\n"
			if got := errorWrites(t, "x.go", src); len(got) != tc.want {
				t.Errorf("found %v, want %d", got, tc.want)
			}
		})
	}
}

// errorWrites lists the calls in src that write an error status or body
// directly: Gin's Abort* helpers, net/http's Error, and WriteHeader, JSON,
// Data, String or Status with a constant status of 400 or more.
func errorWrites(t *testing.T, name, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		bad := false
		switch m := sel.Sel.Name; {
		case strings.HasPrefix(m, "AbortWith"):
			bad = true
		case m == "Error" && isIdent(sel.X, "http"):
			bad = true
		case m == "WriteHeader" || m == "JSON" || m == "PureJSON" || m == "IndentedJSON" || m == "Data" || m == "String" || m == "Status":
			bad = len(call.Args) > 0 && errorStatus(call.Args[0])
		}
		if bad {
			out = append(out, fset.Position(call.Pos()).String())
		}
		return true
	})
	return out
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// errorStatus reports whether e is a constant status of 400 or more: a
// literal, or an http.Status… name other than the 1xx–3xx ones.
func errorStatus(e ast.Expr) bool {
	switch v := e.(type) {
	case *ast.BasicLit:
		n, err := strconv.Atoi(v.Value)
		return err == nil && n >= 400
	case *ast.SelectorExpr:
		if !isIdent(v.X, "http") || !strings.HasPrefix(v.Sel.Name, "Status") {
			return false
		}
		switch v.Sel.Name {
		case "StatusOK", "StatusCreated", "StatusAccepted", "StatusNoContent", "StatusResetContent", "StatusPartialContent",
			"StatusMovedPermanently", "StatusFound", "StatusSeeOther", "StatusNotModified", "StatusTemporaryRedirect",
			"StatusPermanentRedirect", "StatusContinue", "StatusSwitchingProtocols", "StatusNonAuthoritativeInfo":
			return false
		}
		return true
	}
	return false
}
