package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Answer is what a handler answers on success.
type Answer struct {
	Status int
	Body   any    // written as JSON; nil with Raw nil: no body (204, 304)
	Raw    []byte // a body already encoded as JSON (cached answers), written as is
}

// OK is 200 with body.
func OK(body any) Answer { return Answer{Status: http.StatusOK, Body: body} }

// Created is 201 with body.
func Created(body any) Answer { return Answer{Status: http.StatusCreated, Body: body} }

// Accepted is 202 with body.
func Accepted(body any) Answer { return Answer{Status: http.StatusAccepted, Body: body} }

// NoContent is 204.
func NoContent() Answer { return Answer{Status: http.StatusNoContent} }

// Handler is an app endpoint: it returns its answer or an error and writes
// nothing itself (it may set headers). Kit.Handle writes either.
type Handler func(c *gin.Context) (Answer, error)

// Kit is the one place that writes answers and maps errors, for one area of
// the API: Handle adapts a Handler to Gin.
type Kit struct {
	Logger *slog.Logger
	// Errors is the area's error table: it turns the area's own errors
	// into *Error (Errors.Map). Nil maps nothing.
	Errors Errors
}

// NewKit returns a kit logging to logger (nil: discard) and mapping the
// area's errors with table.
func NewKit(logger *slog.Logger, table Errors) Kit {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return Kit{Logger: logger, Errors: table}
}

// Handle adapts h to Gin.
func (k Kit) Handle(h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, err := h(c)
		if err == nil {
			err = Write(c, a)
		}
		if err != nil {
			k.Fail(c, err)
		}
	}
}

// Fail writes err (mapped by the area's table) as the envelope.
func (k Kit) Fail(c *gin.Context, err error) {
	err = k.Errors.Map(err)
	logger := k.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	Fail(c, logger, err)
}

// Write writes a successful answer. The body is encoded before anything is
// written: a body that does not encode (a time outside years 0–9999, NaN)
// writes nothing and is the error, which Handle answers with the 500
// envelope, never a status with an empty or truncated body.
func Write(c *gin.Context, a Answer) error {
	body := a.Raw
	if body == nil && a.Body != nil {
		b, err := json.Marshal(a.Body)
		if err != nil {
			return fmt.Errorf("web: encode answer: %w", err)
		}
		body = b
	}
	if body == nil {
		c.Status(a.Status)
		return nil
	}
	c.Data(a.Status, "application/json; charset=utf-8", body)
	return nil
}

// PathID parses the path parameter name as a positive id; anything else
// names nothing, so it is 404 not_found like a missing row.
func PathID(c *gin.Context, name string) (uint64, error) {
	id, err := strconv.ParseUint(c.Param(name), 10, 64)
	if err != nil || id == 0 {
		return 0, &Error{Code: CodeNotFound, Message: "찾을 수 없습니다."}
	}
	return id, nil
}
