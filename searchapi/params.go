package searchapi

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/web"
)

// Limits of the query parameters. The OpenAPI document states the same
// numbers; a test keeps them in step.
const (
	MaxQueryRunes      = 100 // q, after normalisation
	DefaultSize        = 20  // hits per page of a per-type search or the feed
	DefaultSectionSize = 5   // hits per section of the combined search
	MaxSize            = 50
	DefaultSuggestSize = 8
	MaxSuggestSize     = 20
	MaxFilterRunes     = 50 // one category or tag
	MaxTags            = 10
	maxCursorBytes     = 512
	maxRawQueryBytes   = 1024 // checked before normalising, so a huge q costs nothing
)

// Sort modes.
const (
	SortRelevance = "relevance"
	SortRecent    = "recent"
	SortPopular   = "popular"
)

// kst is the zone of date-only filters: the app's users live in Korea, so
// from=2024-03-01 means midnight in Seoul. A fixed zone needs no tzdata.
var kst = time.FixedZone("KST", 9*60*60)

// SearchParams is a validated per-type search.
type SearchParams struct {
	Kind     string // mappings.Contents | Posts | Users
	Query    string // normalised: NFC, single spaces, no control characters
	Category string
	Tags     []string
	From, To time.Time // zero: open; To is exclusive
	Sort     string    // relevance | recent
	Size     int
	After    []string // search_after from the cursor, JSON numbers

	// Simple asks for the reduced relevance query (see textQuery); the
	// handler sets it to retry a query the engine found too complex.
	Simple bool
}

// MultiParams is a validated combined search.
type MultiParams struct {
	Query  string
	Kinds  []string
	Size   int // per section
	Simple bool
}

// SuggestParams is a validated autocomplete request.
type SuggestParams struct {
	Query string
	Kinds []string
	Size  int // suggestions in all
}

// FeedParams is a validated community feed page.
type FeedParams struct {
	Sort     string // recent | popular
	Category string
	Size     int
	After    []string
}

// accepted lists what each kind of request takes: exactly the query
// parameters its endpoint has in the OpenAPI document (a test keeps them in
// step). Any other parameter, one of another endpoint (tags on posts) or
// one no endpoint knows (a misspelt sort), is a bad_parameter: a client bug
// that silently changed nothing would look like a search that ignored it.
var accepted = map[string][]string{
	mappings.Contents: {"q", "sort", "size", "cursor", "category", "tags", "from", "to"},
	mappings.Posts:    {"q", "sort", "size", "cursor", "category", "from", "to"},
	mappings.Users:    {"q", "sort", "size", "cursor"},
	"multi":           {"q", "types", "size"},
	"suggest":         {"q", "types", "size"},
	"feed":            {"sort", "size", "cursor", "category"},
}

// sortsOf lists the sort modes of each kind of request; the first is the default.
// Users sort by relevance only: ordering people by join date says more than a
// search needs to.
var sortsOf = map[string][]string{
	mappings.Contents: {SortRelevance, SortRecent},
	mappings.Posts:    {SortRelevance, SortRecent},
	mappings.Users:    {SortRelevance},
	"feed":            {SortRecent, SortPopular},
}

// badParams is the bad_parameter answer naming every parameter at fault,
// or nil.
func badParams(f *web.Fields) error {
	return f.ErrAs(web.CodeBadParameter, "검색 매개변수를 확인해 주세요.")
}

// values is the query string, read once.
type values struct {
	v url.Values
}

// checkParams adds a field error for every parameter this request does not
// take or that is given twice (web.StrictValues).
func checkParams(f *web.Fields, v url.Values, request string) values {
	return values{web.StrictValues(f, v, accepted[request]...)}
}

func (v values) get(name string) string { return v.v.Get(name) }

// ParseSearch validates a per-type search (kind is mappings.Contents, Posts
// or Users). Errors are *web.Error with the codes of the OpenAPI document:
// bad_parameter (with fields) for parameters the request does not take or
// takes once, then query_required / query_too_long, then bad_parameter for
// every other parameter out of its domain, then bad_cursor.
func ParseSearch(kind string, q url.Values) (SearchParams, error) {
	var f web.Fields
	v := checkParams(&f, q, kind)
	p := SearchParams{Kind: kind}
	if err := badParams(&f); err != nil {
		return p, err
	}
	var err error
	if p.Query, err = parseQuery(v.get("q")); err != nil {
		return p, err
	}
	p.Sort = parseSort(&f, v, sortsOf[kind])
	p.Size = web.PageSize(&f, "size", v.get("size"), DefaultSize, MaxSize)
	p.Category = parseFilter(&f, "category", v.get("category"))
	p.Tags = parseTags(&f, v.get("tags"))
	r := searchRange().Parse(&f, v.get("from"), v.get("to"))
	p.From, p.To = r.From, r.To
	if err := badParams(&f); err != nil {
		return p, err
	}
	if c := v.get("cursor"); c != "" {
		if p.After, err = decodeCursor(c, p.fingerprint(), afterShape(kind, p.Sort)); err != nil {
			return p, err
		}
	}
	return p, nil
}

// ParseMulti validates a combined search.
func ParseMulti(q url.Values) (MultiParams, error) {
	var p MultiParams
	var err error
	p.Query, p.Kinds, p.Size, err = parseTyped(q, "multi", DefaultSectionSize, MaxSize)
	return p, err
}

// ParseSuggest validates an autocomplete request.
func ParseSuggest(q url.Values) (SuggestParams, error) {
	var p SuggestParams
	var err error
	p.Query, p.Kinds, p.Size, err = parseTyped(q, "suggest", DefaultSuggestSize, MaxSuggestSize)
	return p, err
}

// parseTyped reads q, types and size (the combined search and suggest).
func parseTyped(q url.Values, request string, defSize, maxSize int) (string, []string, int, error) {
	var f web.Fields
	v := checkParams(&f, q, request)
	if err := badParams(&f); err != nil {
		return "", nil, 0, err
	}
	query, err := parseQuery(v.get("q"))
	if err != nil {
		return "", nil, 0, err
	}
	kinds := parseTypes(&f, v.get("types"))
	size := web.PageSize(&f, "size", v.get("size"), defSize, maxSize)
	return query, kinds, size, badParams(&f)
}

// ParseFeed validates a feed page.
func ParseFeed(q url.Values) (FeedParams, error) {
	var f web.Fields
	v := checkParams(&f, q, "feed")
	var p FeedParams
	p.Sort = parseSort(&f, v, sortsOf["feed"])
	p.Size = web.PageSize(&f, "size", v.get("size"), DefaultSize, MaxSize)
	p.Category = parseFilter(&f, "category", v.get("category"))
	if err := badParams(&f); err != nil {
		return p, err
	}
	if c := v.get("cursor"); c != "" {
		var err error
		if p.After, err = decodeCursor(c, p.fingerprint(), afterShape("feed", p.Sort)); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseQuery normalises q: NFC (decomposed Hangul from some keyboards would
// match nothing), control and format characters as spaces, runs of spaces as
// one, trimmed. The length limit counts the normalised runes.
func parseQuery(raw string) (string, error) {
	if len(raw) > maxRawQueryBytes {
		return "", tooLong()
	}
	if !utf8.ValidString(raw) {
		var f web.Fields
		f.Add("q", web.FieldInvalid, "q는 올바른 UTF-8 문자열이어야 합니다.")
		return "", badParams(&f)
	}
	q := cleanText(raw)
	if q == "" {
		return "", &web.Error{Code: web.CodeQueryRequired, Message: "검색어(q)를 입력해 주세요.",
			Fields: []web.FieldError{{Field: "q", Code: web.FieldRequired, Message: "검색어(q)를 입력해 주세요."}}}
	}
	if utf8.RuneCountInString(q) > MaxQueryRunes {
		return "", tooLong()
	}
	return q, nil
}

func tooLong() *web.Error {
	msg := "검색어는 " + strconv.Itoa(MaxQueryRunes) + "자를 넘을 수 없습니다."
	return &web.Error{Code: web.CodeQueryTooLong, Message: msg, Fields: []web.FieldError{{Field: "q", Code: web.FieldTooLong, Message: msg}}}
}

// cleanText is NFC with control/format characters and white space runs
// turned into single spaces, trimmed.
func cleanText(s string) string {
	s = norm.NFC.String(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
	}), " ")
}

// parseSort: an absent sort is the default; a given one, empty included,
// must be one of allowed (the OpenAPI enum).
func parseSort(f *web.Fields, v values, allowed []string) string {
	raw := v.get("sort")
	if !v.v.Has("sort") {
		return allowed[0]
	}
	if !slices.Contains(allowed, raw) {
		f.Add("sort", web.FieldInvalid, "sort는 "+strings.Join(allowed, ", ")+" 중 하나여야 합니다.")
		return allowed[0]
	}
	return raw
}

// parseFilter validates one keyword filter value (category, a tag).
func parseFilter(f *web.Fields, name, raw string) string {
	if !utf8.ValidString(raw) {
		f.Add(name, web.FieldInvalid, name+"는 올바른 UTF-8 문자열이어야 합니다.")
		return ""
	}
	s := cleanText(raw)
	if utf8.RuneCountInString(s) > MaxFilterRunes {
		f.Add(name, web.FieldTooLong, name+"는 "+strconv.Itoa(MaxFilterRunes)+"자를 넘을 수 없습니다.")
		return ""
	}
	return s
}

// parseTags splits a comma-separated list; a document must carry every tag.
func parseTags(f *web.Fields, raw string) []string {
	if raw == "" {
		return nil
	}
	var tags []string
	for _, part := range strings.Split(raw, ",") {
		if f.Has("tags") {
			return nil
		}
		if t := strings.ToLower(parseFilter(f, "tags", part)); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) > MaxTags {
		f.Add("tags", web.FieldTooLong, "tags는 "+strconv.Itoa(MaxTags)+"개까지 줄 수 있습니다.")
		return nil
	}
	slices.Sort(tags)
	return tags
}

// parseTypes reads types=contents,posts,users; empty means all, in that order.
func parseTypes(f *web.Fields, raw string) []string {
	if raw == "" {
		return mappings.Names()
	}
	var kinds []string
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains(mappings.Names(), part) {
			f.Add("types", web.FieldInvalid, "types는 contents, posts, users를 쉼표로 나열해야 합니다.")
			return nil
		}
		if !slices.Contains(kinds, part) {
			kinds = append(kinds, part)
		}
	}
	// The fixed order of the names, whatever the order asked.
	slices.SortFunc(kinds, func(a, b string) int {
		return slices.Index(mappings.Names(), a) - slices.Index(mappings.Names(), b)
	})
	return kinds
}

// searchRange is how from/to read: a date (YYYY-MM-DD, a whole day in Korean
// time, to inclusive) or an RFC 3339 instant (to inclusive to the
// millisecond), from 2000 to 2199 (later dates are typos; they would also
// overflow epoch millis); either end may be open.
func searchRange() web.RangeRule {
	return web.RangeRule{
		Zone: kst, Instants: true, InclusiveInstant: true,
		Earliest: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		Latest:   time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}
