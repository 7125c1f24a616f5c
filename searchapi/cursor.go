package searchapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soomcare/soomcare/web"
)

// Cursors are opaque to clients: base64url (no padding) of
//
//	{"v":1,"f":"<fingerprint>","a":[<search_after values>]}
//
// The fingerprint hashes everything that decides the order and the set of
// hits (request kind, sort mode, query, filters; not the page size), so a
// cursor only continues the query that produced it: any other query, sort or
// filter answers bad_cursor instead of a silently wrong page. The values are
// the engine's sort values of the last hit, checked for shape and type before
// they reach the engine. Cursors are not signed: forging one only lets a client
// start a page at a point of its own choosing in results it can read anyway.

const cursorVersion = 1

type cursorBody struct {
	V     int           `json:"v"`
	F     string        `json:"f"`
	After []json.Number `json:"a"`
}

// valueKind is the type of one search_after value.
type valueKind int

const (
	intValue   valueKind = iota // dates (epoch millis), ids, counts
	floatValue                  // _score
)

// afterShape is the search_after layout of a sort mode; see sortClause.
func afterShape(kind, sort string) []valueKind {
	switch {
	case sort == SortRelevance:
		return []valueKind{floatValue, intValue}
	case kind == "feed" && sort == SortPopular:
		return []valueKind{intValue, intValue, intValue}
	default: // recent: date, id
		return []valueKind{intValue, intValue}
	}
}

func badCursor() *web.Error { return web.BadCursor() }

// encodeCursor makes the cursor that continues after a hit with sort values
// after; it fails when the engine returned a sort value that is not a number.
func encodeCursor(fingerprint string, after []json.RawMessage) (string, error) {
	c := cursorBody{V: cursorVersion, F: fingerprint, After: make([]json.Number, len(after))}
	for i, a := range after {
		c.After[i] = json.Number(strings.TrimSpace(string(a)))
	}
	s, err := web.EncodeCursor(c)
	if err != nil {
		return "", fmt.Errorf("cursor from sort values %s: %w", after, err)
	}
	return s, nil
}

// decodeCursor checks a cursor against the request's fingerprint and the sort
// mode's shape and returns its search_after values.
func decodeCursor(s, fingerprint string, shape []valueKind) ([]string, error) {
	var c struct {
		V     int               `json:"v"`
		F     string            `json:"f"`
		After []json.RawMessage `json:"a"`
	}
	if !web.DecodeCursor(s, maxCursorBytes, &c) {
		return nil, badCursor()
	}
	if c.V != cursorVersion || c.F != fingerprint || len(c.After) != len(shape) {
		return nil, badCursor()
	}
	out := make([]string, len(shape))
	for i, k := range shape {
		v := string(c.After[i])
		if v == "" || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) { // numbers only, not "7" or null
			return nil, badCursor()
		}
		switch k {
		case intValue:
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return nil, badCursor()
			}
		case floatValue:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1e30 {
				return nil, badCursor()
			}
		}
		out[i] = v
	}
	return out, nil
}

// fingerprint hashes the fields that define a result order. Field values are
// separated by a byte that cleanText never lets through.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func (p SearchParams) fingerprint() string {
	return fingerprint("search", p.Kind, p.Sort, p.Query, p.Category, strings.Join(p.Tags, "\x1f"), timeKey(p.From), timeKey(p.To))
}

func (p FeedParams) fingerprint() string {
	return fingerprint("feed", "posts", p.Sort, p.Category)
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}
