package bulk

import "strings"

// quotedValue is one place where an engine quotes a document's value in an
// item error. The engines quote without escaping, so the value may itself
// hold the quote that closes it, brackets, newlines, anything.
type quotedValue struct {
	before string   // kept: the engine's words that introduce the value
	open   string   // withheld: the quote that opens the value
	close  string   // withheld: the quote that closes it
	after  []string // kept: what the engine writes right after close (any one of these)
}

// quotedValues are the engines' phrasings that quote a document's content:
// field value previews, immense-term prefixes, numbers, dates and booleans
// that did not parse (Elasticsearch, OpenSearch, java.lang and java.time
// messages), and the JSON parser's source excerpt.
var quotedValues = []quotedValue{
	{before: "Preview of field's value: ", open: "'", close: "'"},
	{before: "The prefix of the first immense term is: ", open: "'", close: "'"},
	{before: "For input string: ", open: `"`, close: `"`},
	{before: "failed to parse date field ", open: "[", close: "]", after: []string{" with format ["}},
	{before: "Text ", open: "'", close: "'", after: []string{" could not be parsed"}},
	{before: "Cannot parse value ", open: "[", close: "]"},
	{before: "Value ", open: "[", close: "]", after: []string{" is out of range for ", " has a decimal part"}},
	{before: "Failed to parse value ", open: "[", close: "]", after: []string{" as only [true] or [false] are allowed"}},
	{before: "Unrecognized token ", open: "'", close: "'", after: []string{": was expecting"}},
	{before: "[Source: ", after: []string{"; line: "}},
}

// withheld replaces a quoted value, its quotes included.
const withheld = "[withheld]"

// WithholdValues removes the document content an engine's error reason
// quotes, keeping what explains the failure (field, type, limits): reasons
// end up in logs and the dead-letter table, where users' text must not.
//
// A value ends at its closing quote only when exactly one closing quote (with
// the words the engine writes after it) follows the opening one; otherwise the
// value itself holds one and its end cannot be told, so everything to the end
// of the reason is withheld. A phrasing the engines add later passes through
// until it is added to quotedValues.
func WithholdValues(reason string) string {
	var b strings.Builder
	for {
		at, q := nextQuotedValue(reason)
		if q == nil {
			b.WriteString(reason)
			return b.String()
		}
		b.WriteString(reason[:at+len(q.before)])
		b.WriteString(withheld)
		rest := reason[at+len(q.before)+len(q.open):]
		end := q.end(rest)
		if end < 0 {
			return b.String()
		}
		reason = rest[end:]
	}
}

// nextQuotedValue finds the first phrasing that opens a quoted value.
func nextQuotedValue(s string) (int, *quotedValue) {
	at, found := -1, (*quotedValue)(nil)
	for i := range quotedValues {
		q := &quotedValues[i]
		j := strings.Index(s, q.before+q.open)
		if j >= 0 && (at < 0 || j < at) {
			at, found = j, q
		}
	}
	return at, found
}

// end returns where the kept text after the value starts in rest (the text
// after the opening quote), or -1 when the value's end cannot be told: no
// closing quote, or more than one.
func (q *quotedValue) end(rest string) int {
	after := q.after
	if len(after) == 0 {
		after = []string{""}
	}
	first, last := -1, -1
	for _, a := range after {
		c := q.close + a
		if i := strings.Index(rest, c); i >= 0 && (first < 0 || i < first) {
			first = i
		}
		last = max(last, strings.LastIndex(rest, c))
	}
	if first < 0 || first != last {
		return -1
	}
	return first + len(q.close)
}
