package web

import "errors"

// ErrorCase is one row of an area's error table: the domain error it
// matches and the envelope the client gets for it.
type ErrorCase struct {
	// Is is the sentinel the row matches (errors.Is).
	Is error
	// Match, instead of Is, matches a typed error (errors.As) and returns
	// the envelope's parts that depend on it (Message, Fields, RetryAfter,
	// even Code); nil when err is not its case. What it leaves empty comes
	// from the row.
	Match func(err error) *Error

	Code    string
	Message string
	// Status registers a domain code's status: codes that live with their
	// domain (auth's email_taken, community's reply_depth) are not in web's
	// table of generic codes (statusByCode). 0: the generic code's status.
	Status int
}

// Errors is an area's error table: Map answers with the first row that
// matches. Kit applies it to every error a handler returns.
type Errors []ErrorCase

// Map returns err as a client error: an *Error as it is (it was made for
// the client already), else the envelope of the first row matching err
// (err kept as its cause, logged, never sent), else err unchanged, which
// Fail answers 500 internal.
func (t Errors) Map(err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	for _, row := range t {
		if e := row.match(err); e != nil {
			return e
		}
	}
	return err
}

// match is the row's envelope for err, or nil when the row does not match.
func (r ErrorCase) match(err error) *Error {
	var e *Error
	switch {
	case r.Match != nil:
		e = r.Match(err)
	case r.Is != nil && errors.Is(err, r.Is):
		e = &Error{}
	}
	if e == nil {
		return nil
	}
	if e.Code == "" {
		e.Code = r.Code
	}
	if e.Message == "" {
		e.Message = r.Message
	}
	if e.Status == 0 {
		e.Status = r.Status
	}
	if e.Err == nil {
		e.Err = err
	}
	return e
}
