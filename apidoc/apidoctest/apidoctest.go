// Package apidoctest checks HTTP responses against the API's OpenAPI
// document with github.com/getkin/kin-openapi, for tests of any handler
// package:
//
//	v := apidoctest.New(t)
//	rec := v.Serve(t, router, httptest.NewRequest("GET", "/v1/search?q=천식", nil))
//
// Every response must belong to a documented path and method, have a
// documented status (errors included) and match its schema and required
// headers; a mismatch fails the test with kin-openapi's explanation.
package apidoctest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/soomcare/soomcare/apidoc"
)

// Validator validates responses against the document.
type Validator struct {
	Doc    *openapi3.T
	router routers.Router
}

// New loads and validates the document; any problem fails t.
func New(t testing.TB) *Validator {
	t.Helper()
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Load is New without a testing.TB (fuzz targets build one validator up front).
func Load() (*Validator, error) {
	raw, err := apidoc.Document()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Validator{Doc: doc, router: router}, nil
}

// Serve runs req through h, checks the response and returns it.
func (v *Validator) Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if err := v.Validate(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("%s %s → %d %s\ndoes not match the OpenAPI document: %v", req.Method, req.URL, rec.Code, truncate(rec.Body.Bytes()), err)
	}
	return rec
}

// CheckResponse checks a response received over the network; its body stays
// readable.
func (v *Validator) CheckResponse(t testing.TB, res *http.Response) {
	t.Helper()
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if err := v.Validate(res.Request, res.StatusCode, res.Header, body); err != nil {
		t.Errorf("%s %s → %d %s\ndoes not match the OpenAPI document: %v", res.Request.Method, res.Request.URL, res.StatusCode, truncate(body), err)
	}
}

// Validate returns why a response does not match the document, or nil.
func (v *Validator) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return err
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
