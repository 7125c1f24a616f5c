package searchapi

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// Search insights (package insights) hook in here through two interfaces
// given to New: a Recorder told about every answered search and suggest
// request, and a Popular list of past queries that suggest blends in.

// Record is one answered request. Insights store no user and no address:
// Client is hashed with a key that changes daily before it is queued.
type Record struct {
	Endpoint string   // EndpointSearch, EndpointContents, … (the path after /v1/)
	Query    string   // QueryKey of the validated q
	Typed    string   // the validated q, case kept (keyboard input: R is ㄲ)
	Client   string   // "user:<id>" when signed in, else "ip:<address>" (web.ClientAddr)
	Types    []string // the kinds searched
	Hits     int64    // matching documents (the sum over sections), or suggestions shown
	Latency  time.Duration
}

// The endpoints a Record names.
const (
	EndpointSearch   = "search"
	EndpointContents = "contents/search"
	EndpointPosts    = "posts/search"
	EndpointUsers    = "users/search"
	EndpointSuggest  = "search/suggest"
)

// Recorder takes records. Record is called on the request path after the
// answer is built, so it must neither block nor fail (insights.Recorder
// queues and drops when full).
type Recorder interface {
	Record(Record)
}

// Popular lists popular past queries for suggest: Match returns at most n
// query texts (QueryKey form) that complete q (QueryKey form), most
// searched first. It is called on every keystroke and must not block.
type Popular interface {
	Match(q string, n int) []string
}

// QueryKey is the one normalised form of a query for insights and
// suggestions: q as validated (NFC, white space folded), lower case. Two
// suggestion texts are the same when their keys are equal.
func QueryKey(q string) string { return suggestKey(q) }

// record tells the recorder, if any, about an answered request.
func (a *API) record(c *gin.Context, endpoint, q string, kinds []string, hits int64, start time.Time) {
	if a.recorder == nil {
		return
	}
	a.recorder.Record(Record{Endpoint: endpoint, Query: QueryKey(q), Typed: q, Client: a.clientOf(c), Types: kinds, Hits: hits, Latency: time.Since(start)})
}

// clientOf is who made the request, for counting distinct clients: the
// signed-in user, else the address the rate limit counts.
func (a *API) clientOf(c *gin.Context) string {
	if p, ok := web.PrincipalFrom(c); ok {
		return "user:" + strconv.FormatUint(p.UserID, 10)
	}
	return "ip:" + web.ClientAddr(c.Request, a.trusted).String()
}

// endpointOf is the Record endpoint of a per-kind search.
func endpointOf(kind string) string { return kind + "/search" }

// totalOf is a result's total, or its hits when the engine did not count.
func totalOf(r result) int64 {
	if r.Hits.Total == nil {
		return int64(len(r.Hits.Hits))
	}
	return r.Hits.Total.Value
}
