package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The shared query parsers. Each API keeps its parameter names, defaults
// and limits; the field errors (and so the answers' shapes) are the same
// everywhere. They add to a Fields, so one answer names every bad parameter.

// PageSize reads a page size parameter (name is "size"; the care lists
// also take their deprecated alias "limit"): an
// integer from 1 to max; def when raw is empty. A value that is not an
// integer is FieldInvalid, one outside 1..max FieldOutOfRange.
func PageSize(f *Fields, name, raw string, def, max int) int {
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		f.Add(name, FieldInvalid, name+" 값은 1~"+strconv.Itoa(max)+" 사이의 정수여야 합니다.")
	case n < 1 || n > max:
		f.Add(name, FieldOutOfRange, name+" 값은 1~"+strconv.Itoa(max)+" 사이여야 합니다.")
	default:
		return n
	}
	return def
}

// BadCursor is the 400 bad_cursor of a cursor that is malformed or belongs
// to another list, query, filter or range: start again without it.
func BadCursor() *Error {
	return &Error{Code: CodeBadCursor, Message: "cursor 가 올바르지 않거나 다른 목록·검색의 것입니다. cursor 없이 처음부터 다시 요청해 주세요.",
		Fields: []FieldError{{Field: "cursor", Code: FieldInvalid, Message: "next_cursor 로 받은 값을 그대로 보내 주세요."}}}
}

// StrictQuery parses a raw query string for a list that takes exactly the
// parameters allowed, each at most once: anything else is a field error
// (FieldUnknown, FieldDuplicate; a query string that does not parse is
// FieldInvalid on "query").
func StrictQuery(f *Fields, raw string, allowed ...string) url.Values {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		f.Add("query", FieldInvalid, "쿼리 문자열이 올바르지 않습니다.")
		return url.Values{}
	}
	return StrictValues(f, vals, allowed...)
}

// StrictValues is StrictQuery over a query string already parsed: it
// removes from vals and reports each parameter not allowed or given twice.
func StrictValues(f *Fields, vals url.Values, allowed ...string) url.Values {
	for _, name := range sortedKeys(vals) {
		switch {
		case !slices.Contains(allowed, name):
			f.Add(name, FieldUnknown, name+" 매개변수는 이 요청에서 쓸 수 없습니다.")
			delete(vals, name)
		case len(vals[name]) > 1:
			f.Add(name, FieldDuplicate, name+" 매개변수가 여러 번 주어졌습니다.")
			delete(vals, name)
		}
	}
	return vals
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Range is a time range [From, To); a zero end is open.
type Range struct{ From, To time.Time }

// EarliestRecord and LatestRecord are the one bound of the times stored rows
// carry (care records, health events, intakes, articles' edits): from
// 2000-01-01 (midnight in loc) to one day after now (phones' clocks drift;
// nothing is recorded further ahead). Every date, range and cursor that
// reaches a query is checked against them, so no value MySQL cannot store or
// JSON cannot encode (years 0 and 10000 and beyond) gets that far.
func EarliestRecord(loc *time.Location) time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, loc) }

// LatestRecord is the latest time a stored row may carry (see EarliestRecord).
func LatestRecord(now time.Time) time.Time { return now.Add(24 * time.Hour) }

// RangeRule is how one API reads its from/to parameters. A value is a date
// (YYYY-MM-DD, a whole day in Zone; to is inclusive, so its end is the next
// midnight) or, when Instants, an RFC 3339 instant.
type RangeRule struct {
	Zone *time.Location
	// Instants accepts RFC 3339 instants besides dates. An unencoded + in a
	// query string arrives as a space; it is read as + again.
	Instants bool
	// InclusiveInstant makes to=<instant> include that millisecond (the
	// search API); otherwise an instant to is the exclusive end.
	InclusiveInstant bool
	// Earliest and Latest bound every value as given, before the end of a
	// date is moved to the next midnight: Earliest <= value < Latest (zero:
	// no bound); outside is FieldOutOfRange.
	Earliest, Latest time.Time
	// Until returns the end used when to is absent (nil: open).
	Until func() time.Time
	// DefaultDays is the span used when from is absent and the end is
	// known: from = end - DefaultDays days in Zone (0: open).
	DefaultDays int
	// MaxDays bounds the span in days (0: no bound).
	MaxDays int
	// Horizon, when not zero, is the time a range must start before: from,
	// given or defaulted, is before it (nothing starts later, see
	// LatestRecord); with MaxDays it bounds to as well. A defaulted from
	// before Earliest becomes Earliest.
	Horizon time.Time
}

// Parse reads from and to (raw values, "" when absent) and adds field
// errors: FieldInvalidDate for a value that does not parse,
// FieldOutOfRange for one outside the bounds, for to not after from, or
// for a span over MaxDays (both on "to"), or for a range that starts at or
// after Horizon (on "from", or on "to" when from was defaulted from it).
func (rule RangeRule) Parse(f *Fields, rawFrom, rawTo string) Range {
	var r Range
	okFrom, okTo := true, true
	if rawFrom != "" {
		r.From, okFrom = rule.value(f, "from", rawFrom, false)
	}
	if rawTo != "" {
		r.To, okTo = rule.value(f, "to", rawTo, true)
	}
	if !okFrom || !okTo {
		return Range{}
	}
	if rawTo == "" && rule.Until != nil {
		r.To = rule.Until()
	}
	if rawFrom == "" && rule.DefaultDays > 0 && !r.To.IsZero() {
		r.From = r.To.In(rule.Zone).AddDate(0, 0, -rule.DefaultDays)
		if !rule.Earliest.IsZero() && r.From.Before(rule.Earliest) {
			r.From = rule.Earliest
		}
	}
	fromName := "from"
	if rawFrom == "" {
		fromName = "to" // a defaulted from follows to
	}
	rule.check(f, r, fromName)
	return r
}

// check adds the errors of a range's relations: to after from, the span,
// and from before Horizon (named fromName).
func (rule RangeRule) check(f *Fields, r Range, fromName string) {
	switch {
	case !rule.Horizon.IsZero() && !r.From.IsZero() && !r.From.Before(rule.Horizon):
		f.Add(fromName, FieldOutOfRange, "기간은 내일 이전에 시작해야 합니다(그 뒤의 기록은 없습니다).")
	case r.From.IsZero() || r.To.IsZero():
	case !r.To.After(r.From):
		f.Add("to", FieldOutOfRange, "to 는 from 이후여야 합니다.")
	case rule.MaxDays > 0 && r.To.After(r.From.In(rule.Zone).AddDate(0, 0, rule.MaxDays)):
		f.Add("to", FieldOutOfRange, "기간은 "+strconv.Itoa(rule.MaxDays)+"일을 넘을 수 없습니다.")
	}
}

// Valid reports whether r is a range Parse could have returned: what a
// cursor carries is checked again when it comes back, since a client can
// make one by hand. Ends that Parse always sets (Until, DefaultDays) must be
// set; every end is within Earliest and Latest (an end of a date may be the
// day after Latest's last day), and the relations of check hold.
func (rule RangeRule) Valid(r Range) bool {
	switch {
	case r.To.IsZero() && rule.Until != nil, r.From.IsZero() && rule.DefaultDays > 0 && !r.To.IsZero():
		return false
	case !rule.Earliest.IsZero() && ((!r.From.IsZero() && r.From.Before(rule.Earliest)) || (!r.To.IsZero() && !r.To.After(rule.Earliest))):
		return false
	case !rule.Latest.IsZero() && (!r.From.Before(rule.Latest) || r.To.After(rule.Latest.AddDate(0, 0, 1))):
		return false
	}
	var f Fields
	rule.check(&f, r, "from")
	return f.OK()
}

// value parses one end; end is true for to.
func (rule RangeRule) value(f *Fields, name, raw string, end bool) (time.Time, bool) {
	t, date, ok := rule.parse(raw)
	if !ok {
		msg := name + " 값은 2024-03-01 같은 날짜여야 합니다."
		if rule.Instants {
			msg = name + " 값은 2024-03-01 같은 날짜나 RFC 3339 시각이어야 합니다."
		}
		f.Add(name, FieldInvalidDate, msg)
		return time.Time{}, false
	}
	if (!rule.Earliest.IsZero() && t.Before(rule.Earliest)) || (!rule.Latest.IsZero() && !t.Before(rule.Latest)) {
		f.Add(name, FieldOutOfRange, rule.boundsMessage(name))
		return time.Time{}, false
	}
	switch {
	case end && date:
		t = t.AddDate(0, 0, 1)
	case end && rule.InclusiveInstant:
		t = t.Add(time.Millisecond).Truncate(time.Millisecond)
	}
	return t, true
}

func (rule RangeRule) boundsMessage(name string) string {
	if rule.Latest.IsZero() {
		return name + " 값은 " + strconv.Itoa(rule.Earliest.Year()) + "년 이후여야 합니다."
	}
	return name + " 값은 " + strconv.Itoa(rule.Earliest.Year()) + "년부터 " + strconv.Itoa(rule.Latest.Year()-1) + "년 사이여야 합니다."
}

// parse reads a date (midnight in Zone) or, when Instants, an instant.
func (rule RangeRule) parse(raw string) (t time.Time, date, ok bool) {
	if d, err := time.ParseInLocation(time.DateOnly, raw, rule.Zone); err == nil {
		return d, true, true
	}
	if !rule.Instants {
		return time.Time{}, false, false
	}
	ts, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(raw, " ", "+"))
	return ts, false, err == nil
}
