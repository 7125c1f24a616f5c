package bulk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// validate returns why op cannot be sent, or "". Such ops would make the
// engine refuse the whole request, so they are reported on their own.
func validate(op *Op) string {
	switch {
	case op.Action != ActionIndex && op.Action != ActionDelete:
		return fmt.Sprintf("unknown action %q", op.Action)
	case op.Index == "":
		return "empty index"
	case op.ID == "":
		return "empty id"
	case len(op.ID) > bulkMaxIDBytes:
		return fmt.Sprintf("id is %d bytes, longer than %d", len(op.ID), bulkMaxIDBytes)
	case op.Version <= 0:
		return fmt.Sprintf("version %d is not > 0", op.Version)
	case op.Action == ActionIndex && len(bytes.TrimSpace(op.Doc)) == 0:
		return "index op without a document"
	case op.Action == ActionIndex && bytes.IndexByte(op.Doc, '\n') >= 0 && !json.Valid(op.Doc):
		return "document with line breaks is not valid JSON"
	}
	return ""
}

// appendOp appends op's NDJSON lines: the action line with its external
// version and, for index, the document on one line.
func appendOp(b []byte, op *Op) []byte {
	b = append(b, `{"`...)
	b = append(b, op.Action...)
	b = append(b, `":{"_index":`...)
	b = appendString(b, op.Index)
	b = append(b, `,"_id":`...)
	b = appendString(b, op.ID)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, op.Version, 10)
	b = append(b, `,"version_type":"external_gte"}}`+"\n"...)
	if op.Action != ActionIndex {
		return b
	}
	doc := bytes.TrimSpace(op.Doc)
	if bytes.IndexByte(doc, '\n') >= 0 {
		buf := bytes.NewBuffer(b)
		if json.Compact(buf, doc) == nil { // validated by validate
			return append(buf.Bytes(), '\n')
		}
	}
	b = append(b, doc...)
	return append(b, '\n')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			plain = false
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // strings always marshal
	return append(b, q...)
}
