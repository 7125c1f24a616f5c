package bulk_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/soomcare/soomcare/indexer/bulk"
)

// withholdPhrasings are the engines' messages that quote a document's value
// (%[1]s), as Elasticsearch, OpenSearch, the JDK and Jackson write them, and
// the text each keeps in front of the value.
var withholdPhrasings = []struct{ format, kept string }{
	{"failed to parse field [like_count] of type [integer] in document with id '5'. Preview of field's value: '%[1]s'",
		"failed to parse field [like_count] of type [integer] in document with id '5'. Preview of field's value: "},
	{`Document contains at least one immense term in field="tags" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped. Please correct the analyzer to not produce such terms. The prefix of the first immense term is: '%[1]s...', original message: bytes can be at most 32766 in length; got 40000`,
		`Document contains at least one immense term in field="tags" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped. Please correct the analyzer to not produce such terms. The prefix of the first immense term is: `},
	{`For input string: "%[1]s"`, "For input string: "},
	{`For input string: "%[1]s" under radix 16`, "For input string: "},
	{"failed to parse date field [%[1]s] with format [strict_date_optional_time||epoch_millis]", "failed to parse date field "},
	{"Text '%[1]s' could not be parsed at index 0", "Text "},
	{"Cannot parse value [%[1]s]", "Cannot parse value "},
	{"Value [%[1]s] is out of range for a long", "Value "},
	{"Value [%[1]s] has a decimal part", "Value "},
	{"Failed to parse value [%[1]s] as only [true] or [false] are allowed.", "Failed to parse value "},
	{"Unrecognized token '%[1]s': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", "Unrecognized token "},
	{`[1:9] failed to parse: Unexpected character at [Source: (byte[])"{"n":%[1]s}"; line: 1, column: 9]`,
		`[1:9] failed to parse: Unexpected character at [Source: `},
	// Two parts joined the way the bulk writer joins reason and caused_by.
	{"failed to parse field [n] of type [long] in document with id '7'. Preview of field's value: '%[1]s' (caused by illegal_argument_exception: For input string: \"%[1]s\")",
		"failed to parse field [n] of type [long] in document with id '7'. Preview of field's value: "},
	{"failed to parse field [d] of type [date] in document with id '7'. Preview of field's value: '%[1]s' (caused by illegal_argument_exception: failed to parse date field [%[1]s] with format [strict_date_optional_time||epoch_millis])",
		"failed to parse field [d] of type [date] in document with id '7'. Preview of field's value: "},
}

func TestWithholdValues(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"preview",
			"failed to parse field [like_count] of type [integer] in document with id '5'. Preview of field's value: '천식 있는 아이'",
			"failed to parse field [like_count] of type [integer] in document with id '5'. Preview of field's value: [withheld]"},
		{"preview holding a quote (the leak of issue #10)",
			"failed to parse field [body] of type [long] in document with id '5'. Preview of field's value: 'it's my asthma diagnosis and phone 010-1234-5678'",
			"failed to parse field [body] of type [long] in document with id '5'. Preview of field's value: [withheld]"},
		{"preview holding brackets and a newline",
			"failed to parse field [n] of type [long] in document with id '5'. Preview of field's value: '[a]\n{b}'",
			"failed to parse field [n] of type [long] in document with id '5'. Preview of field's value: [withheld]"},
		{"preview never closed",
			"failed to parse field [n] of type [long] in document with id '5'. Preview of field's value: '010-1234",
			"failed to parse field [n] of type [long] in document with id '5'. Preview of field's value: [withheld]"},
		{"immense term",
			`Document contains at least one immense term in field="body" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped. The prefix of the first immense term is: '[-20, -107, -100]...', original message: bytes can be at most 32766 in length; got 40000`,
			`Document contains at least one immense term in field="body" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped. The prefix of the first immense term is: [withheld], original message: bytes can be at most 32766 in length; got 40000`},
		{"number in caused_by",
			`failed to parse (caused by number_format_exception: For input string: "010-1234-5678")`,
			`failed to parse (caused by number_format_exception: For input string: [withheld])`},
		{"number with radix",
			`For input string: "zz" under radix 16`,
			`For input string: [withheld] under radix 16`},
		{"number holding a double quote",
			`failed to parse (caused by number_format_exception: For input string: "say "hi" 010")`,
			`failed to parse (caused by number_format_exception: For input string: [withheld]`},
		{"date",
			"failed to parse date field [어제 밤] with format [strict_date_optional_time||epoch_millis]",
			"failed to parse date field [withheld] with format [strict_date_optional_time||epoch_millis]"},
		{"date holding a bracket",
			"failed to parse date field [어제] 밤] with format [strict_date_optional_time||epoch_millis]",
			"failed to parse date field [withheld] with format [strict_date_optional_time||epoch_millis]"},
		{"date repeated (the value's end cannot be told)",
			"failed to parse date field [어제] with format [x]: [failed to parse date field [어제] with format [x]]",
			"failed to parse date field [withheld]"},
		{"java.time", "Text '어제 밤' could not be parsed at index 0", "Text [withheld] could not be parsed at index 0"},
		{"long out of range", "Value [99999999999999999999] is out of range for a long", "Value [withheld] is out of range for a long"},
		{"decimal part", "Value [1.5] has a decimal part", "Value [withheld] has a decimal part"},
		{"boolean", "Failed to parse value [아마도] as only [true] or [false] are allowed.",
			"Failed to parse value [withheld] as only [true] or [false] are allowed."},
		{"json source",
			`Unrecognized token 'asthma': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false') at [Source: (byte[])"{"n":asthma}"; line: 1, column: 12]`,
			`Unrecognized token [withheld]: was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false') at [Source: [withheld]; line: 1, column: 12]`},
		{"two values in one reason",
			`failed to parse field [n] of type [long] in document with id '5'. Preview of field's value: 'abc' (caused by illegal_argument_exception: For input string: "abc")`,
			`failed to parse field [n] of type [long] in document with id '5'. Preview of field's value: [withheld] (caused by illegal_argument_exception: For input string: [withheld])`},
		{"no value quoted",
			"version conflict, current version [5] is higher or equal to the one provided [3]",
			"version conflict, current version [5] is higher or equal to the one provided [3]"},
		{"already withheld", "Preview of field's value: [withheld]", "Preview of field's value: [withheld]"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bulk.WithholdValues(tt.in); got != tt.want {
				t.Errorf("WithholdValues(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzWithholdValues plants a secret inside a value of every phrasing: the
// secret never survives, whatever surrounds it, and the explanation in front
// of the value does.
func FuzzWithholdValues(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{"it's ", " diagnosis'"},
		{`"`, `" x "`},
		{"[", "]] with format [x]"},
		{"a\nb", "\r\n'\n"},
		{"천식 ", " 흡입기 ☺"},
		{"' (caused by x: For input string: \"", "\")"},
		{"Preview of field's value: '", "'"},
		{"] is out of range for a long", "] has a decimal part"},
		{"'; line: ", "\"; line: 1"},
		{"\x00\xff", "\u2028"},
	} {
		f.Add(seed[0], seed[1])
	}
	const secret = "SECRET-천식-010-1234-5678"
	f.Fuzz(func(t *testing.T, before, after string) {
		value := before + secret + after
		for _, p := range withholdPhrasings {
			in := fmt.Sprintf(p.format, value)
			got := bulk.WithholdValues(in)
			if strings.Contains(got, secret) {
				t.Fatalf("secret survived:\n in %q\nout %q", in, got)
			}
			if !strings.HasPrefix(got, p.kept+"[withheld]") {
				t.Fatalf("explanation lost:\n in %q\nout %q\nwant prefix %q", in, got, p.kept+"[withheld]")
			}
			if utf8.ValidString(in) && !utf8.ValidString(got) {
				t.Fatalf("valid UTF-8 in, invalid out: %q", got)
			}
		}
	})
}

// TestBulkItemReasonsWithheld: a failed item's reason and caused_by are each
// redacted, so a value whose end cannot be told in one part does not hide the
// other part's explanation, and no part of the value reaches ItemError.
func TestBulkItemReasonsWithheld(t *testing.T) {
	const value = `it's my asthma diagnosis and phone 010-1234-5678 "x"`
	item, err := json.Marshal(map[string]any{"index": map[string]any{"_id": "id-000", "status": 400, "error": map[string]any{
		"type":   "document_parsing_exception",
		"reason": "[1:8] failed to parse field [n] of type [long] in document with id 'id-000'. Preview of field's value: '" + value + "'",
		"caused_by": map[string]any{"type": "illegal_argument_exception",
			"reason": `For input string: "` + value + `"`},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	f := newBulkFake(t)
	f.rawBody = func(int) []byte { return []byte(`{"took":1,"errors":true,"items":[` + string(item) + `]}`) }
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(1))
	if len(res.Failed) != 1 {
		t.Fatalf("failed = %+v, want one item", res.Failed)
	}
	want := "[1:8] failed to parse field [n] of type [long] in document with id 'id-000'. Preview of field's value: [withheld]" +
		" (caused by illegal_argument_exception: For input string: [withheld])"
	if got := res.Failed[0].Reason; got != want {
		t.Errorf("reason\n got %q\nwant %q", got, want)
	}
}
