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

// The parameters the search endpoints know. A known parameter that an
// endpoint does not take is a bad_parameter (tags on posts is a client bug);
// unknown ones are ignored like any other query string noise.
var knownParams = []string{"q", "types", "sort", "size", "cursor", "category", "tags", "from", "to"}

// accepted lists what each kind of request takes.
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

func badParam(msg string) *web.Error { return web.BadRequest(web.CodeBadParameter, msg) }

// values reads the query string once and rejects parameters given twice or
// not taken by this request.
type values struct {
	v url.Values
}

func checkParams(v url.Values, request string) (values, *web.Error) {
	for _, name := range knownParams {
		vs, ok := v[name]
		if !ok {
			continue
		}
		if !slices.Contains(accepted[request], name) {
			return values{}, badParam(name + " 매개변수는 이 요청에서 쓸 수 없습니다.")
		}
		if len(vs) > 1 {
			return values{}, badParam(name + " 매개변수가 여러 번 주어졌습니다.")
		}
	}
	return values{v}, nil
}

func (v values) get(name string) string { return v.v.Get(name) }

// ParseSearch validates a per-type search (kind is mappings.Contents, Posts
// or Users). Errors are *web.Error with the codes of the OpenAPI document.
func ParseSearch(kind string, q url.Values) (SearchParams, error) {
	v, e := checkParams(q, kind)
	if e != nil {
		return SearchParams{}, e
	}
	p := SearchParams{Kind: kind}
	var err *web.Error
	if p.Query, err = parseQuery(v.get("q")); err != nil {
		return p, err
	}
	if p.Sort, err = parseSort(v.get("sort"), sortsOf[kind]); err != nil {
		return p, err
	}
	if p.Size, err = parseSize(v.get("size"), DefaultSize, MaxSize); err != nil {
		return p, err
	}
	if p.Category, err = parseFilter("category", v.get("category")); err != nil {
		return p, err
	}
	if p.Tags, err = parseTags(v.get("tags")); err != nil {
		return p, err
	}
	if p.From, p.To, err = parseRange(v.get("from"), v.get("to")); err != nil {
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
	v, e := checkParams(q, "multi")
	if e != nil {
		return MultiParams{}, e
	}
	var p MultiParams
	var err *web.Error
	if p.Query, err = parseQuery(v.get("q")); err != nil {
		return p, err
	}
	if p.Kinds, err = parseTypes(v.get("types")); err != nil {
		return p, err
	}
	if p.Size, err = parseSize(v.get("size"), DefaultSectionSize, MaxSize); err != nil {
		return p, err
	}
	return p, nil
}

// ParseSuggest validates an autocomplete request.
func ParseSuggest(q url.Values) (SuggestParams, error) {
	v, e := checkParams(q, "suggest")
	if e != nil {
		return SuggestParams{}, e
	}
	var p SuggestParams
	var err *web.Error
	if p.Query, err = parseQuery(v.get("q")); err != nil {
		return p, err
	}
	if p.Kinds, err = parseTypes(v.get("types")); err != nil {
		return p, err
	}
	if p.Size, err = parseSize(v.get("size"), DefaultSuggestSize, MaxSuggestSize); err != nil {
		return p, err
	}
	return p, nil
}

// ParseFeed validates a feed page.
func ParseFeed(q url.Values) (FeedParams, error) {
	v, e := checkParams(q, "feed")
	if e != nil {
		return FeedParams{}, e
	}
	var p FeedParams
	var err *web.Error
	if p.Sort, err = parseSort(v.get("sort"), sortsOf["feed"]); err != nil {
		return p, err
	}
	if p.Size, err = parseSize(v.get("size"), DefaultSize, MaxSize); err != nil {
		return p, err
	}
	if p.Category, err = parseFilter("category", v.get("category")); err != nil {
		return p, err
	}
	if c := v.get("cursor"); c != "" {
		if p.After, err = decodeCursor(c, p.fingerprint(), afterShape("feed", p.Sort)); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseQuery normalises q: NFC (decomposed Hangul from some keyboards would
// match nothing), control and format characters as spaces, runs of spaces as
// one, trimmed. The length limit counts the normalised runes.
func parseQuery(raw string) (string, *web.Error) {
	if len(raw) > maxRawQueryBytes {
		return "", tooLong()
	}
	if !utf8.ValidString(raw) {
		return "", badParam("q는 올바른 UTF-8 문자열이어야 합니다.")
	}
	q := cleanText(raw)
	if q == "" {
		return "", web.BadRequest(web.CodeQueryRequired, "검색어(q)를 입력해 주세요.")
	}
	if utf8.RuneCountInString(q) > MaxQueryRunes {
		return "", tooLong()
	}
	return q, nil
}

func tooLong() *web.Error {
	return web.BadRequest(web.CodeQueryTooLong, "검색어는 "+strconv.Itoa(MaxQueryRunes)+"자를 넘을 수 없습니다.")
}

// cleanText is NFC with control/format characters and white space runs
// turned into single spaces, trimmed.
func cleanText(s string) string {
	s = norm.NFC.String(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
	}), " ")
}

func parseSort(raw string, allowed []string) (string, *web.Error) {
	if raw == "" {
		return allowed[0], nil
	}
	if !slices.Contains(allowed, raw) {
		return "", badParam("sort는 " + strings.Join(allowed, ", ") + " 중 하나여야 합니다.")
	}
	return raw, nil
}

func parseSize(raw string, def, max int) (int, *web.Error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, badParam("size는 1에서 " + strconv.Itoa(max) + " 사이의 정수여야 합니다.")
	}
	return n, nil
}

// parseFilter validates one keyword filter value (category, a tag).
func parseFilter(name, raw string) (string, *web.Error) {
	if !utf8.ValidString(raw) {
		return "", badParam(name + "는 올바른 UTF-8 문자열이어야 합니다.")
	}
	s := cleanText(raw)
	if utf8.RuneCountInString(s) > MaxFilterRunes {
		return "", badParam(name + "는 " + strconv.Itoa(MaxFilterRunes) + "자를 넘을 수 없습니다.")
	}
	return s, nil
}

// parseTags splits a comma-separated list; a document must carry every tag.
func parseTags(raw string) ([]string, *web.Error) {
	if raw == "" {
		return nil, nil
	}
	var tags []string
	for _, part := range strings.Split(raw, ",") {
		t, err := parseFilter("tags", part)
		if err != nil {
			return nil, err
		}
		if t = strings.ToLower(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) > MaxTags {
		return nil, badParam("tags는 " + strconv.Itoa(MaxTags) + "개까지 줄 수 있습니다.")
	}
	slices.Sort(tags)
	return tags, nil
}

// parseTypes reads types=contents,posts,users; empty means all, in that order.
func parseTypes(raw string) ([]string, *web.Error) {
	if raw == "" {
		return mappings.Names(), nil
	}
	var kinds []string
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains(mappings.Names(), part) {
			return nil, badParam("types는 contents, posts, users를 쉼표로 나열해야 합니다.")
		}
		if !slices.Contains(kinds, part) {
			kinds = append(kinds, part)
		}
	}
	// The fixed order of the names, whatever the order asked.
	slices.SortFunc(kinds, func(a, b string) int {
		return slices.Index(mappings.Names(), a) - slices.Index(mappings.Names(), b)
	})
	return kinds, nil
}

// parseRange reads from/to: a date (YYYY-MM-DD, a whole day in Korean time,
// to inclusive) or an RFC 3339 instant. The returned to is exclusive.
func parseRange(rawFrom, rawTo string) (from, to time.Time, err *web.Error) {
	if rawFrom != "" {
		if from, err = parseDate("from", rawFrom, false); err != nil {
			return
		}
	}
	if rawTo != "" {
		if to, err = parseDate("to", rawTo, true); err != nil {
			return
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = badParam("from은 to보다 앞선 날짜여야 합니다.")
	}
	return
}

// Dates outside these bounds are typos; they would also overflow epoch millis.
var (
	minDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func parseDate(name, raw string, end bool) (time.Time, *web.Error) {
	// An unencoded + in a query string arrives as a space: 2024-03-01T09:00:00 09:00.
	raw = strings.ReplaceAll(raw, " ", "+")
	var t time.Time
	if d, err := time.ParseInLocation(time.DateOnly, raw, kst); err == nil {
		t = d
		if end {
			t = t.AddDate(0, 0, 1)
		}
	} else if ts, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		t = ts
		if end {
			t = t.Add(time.Millisecond).Truncate(time.Millisecond) // inclusive to the millisecond
		}
	} else {
		return t, badParam(name + "는 2024-03-01 같은 날짜나 RFC 3339 시각이어야 합니다.")
	}
	if t.Before(minDate) || t.After(maxDate) {
		return time.Time{}, badParam(name + "는 2000년부터 2199년 사이여야 합니다.")
	}
	return t, nil
}
