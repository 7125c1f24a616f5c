package indexer

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/soomcare/soomcare/hangul"
)

// The rows the document builders read. They are the one place that decides
// what a MySQL row becomes in the search index; reindex and the CDC worker both
// call them, so the two paths can never disagree.

// ContentRow is a contents row with its author's nickname.
type ContentRow struct {
	ID             uint64
	AuthorNickname string
	Title          string
	Summary        string
	Body           string
	Category       string
	Tags           []string
	Status         string // draft | published
	PublishedAt    *time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
}

// PostRow is a posts row with its author's public fields.
type PostRow struct {
	ID             uint64
	UserID         uint64
	AuthorNickname string
	AuthorStatus   string // active | blocked | deleted
	AuthorDeleted  bool
	Category       string
	Title          string
	Body           string
	LikeCount      int
	CommentCount   int
	Status         string // visible | hidden
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
}

// UserRow holds the users columns the builder may read. Private columns
// (email, identities, password) are not even carried.
type UserRow struct {
	ID        uint64
	Nickname  string
	Bio       string
	Status    string // active | blocked | deleted
	CreatedAt time.Time
	DeletedAt *time.Time
}

// ContentDoc is the contents document; ok is false when the row must not be
// searchable (draft, soft-deleted), which the writer turns into a delete.
func ContentDoc(r ContentRow) (doc json.RawMessage, ok bool, err error) {
	if r.Status != "published" || r.DeletedAt != nil {
		return nil, false, nil
	}
	title := nfc(r.Title)
	tags := make([]string, 0, len(r.Tags))
	for _, t := range r.Tags {
		if t = strings.TrimSpace(nfc(t)); t != "" {
			tags = append(tags, t)
		}
	}
	d := map[string]any{
		"id":              r.ID,
		"title":           title,
		"summary":         nfc(r.Summary),
		"body":            nfc(r.Body),
		"category":        r.Category,
		"tags":            tags,
		"author_nickname": nfc(r.AuthorNickname),
		"updated_at":      r.UpdatedAt.UTC(),
	}
	if r.PublishedAt != nil {
		d["published_at"] = r.PublishedAt.UTC()
	}
	addKeys(d, title)
	b, err := json.Marshal(d)
	return b, true, err
}

// PostDoc is the posts document. Hidden or deleted posts and posts whose
// author is blocked or deleted are not searchable.
func PostDoc(r PostRow) (doc json.RawMessage, ok bool, err error) {
	if r.Status != "visible" || r.DeletedAt != nil || r.AuthorStatus != "active" || r.AuthorDeleted {
		return nil, false, nil
	}
	title, body := nfc(r.Title), nfc(r.Body)
	d := map[string]any{
		"id":              r.ID,
		"user_id":         r.UserID,
		"author_nickname": nfc(r.AuthorNickname),
		"category":        r.Category,
		"title":           title,
		"body":            body,
		"excerpt":         Excerpt(body),
		"like_count":      r.LikeCount,
		"comment_count":   r.CommentCount,
		"created_at":      r.CreatedAt.UTC(),
		"updated_at":      r.UpdatedAt.UTC(),
	}
	addKeys(d, title)
	b, err := json.Marshal(d)
	return b, true, err
}

// UserDoc is the users document: public fields only. Blocked and deleted users
// are not searchable.
func UserDoc(r UserRow) (doc json.RawMessage, ok bool, err error) {
	if r.Status != "active" || r.DeletedAt != nil {
		return nil, false, nil
	}
	nick := nfc(r.Nickname)
	d := map[string]any{
		"id":         r.ID,
		"nickname":   nick,
		"bio":        nfc(r.Bio),
		"created_at": r.CreatedAt.UTC(),
	}
	addKeys(d, nick)
	b, err := json.Marshal(d)
	return b, true, err
}

// addKeys fills the fields computed at index time: 초성 and the keys typed on
// an English keyboard, for the text itself and for its space-less form (so
// ㅅㅇㅊㅅ finds 소아 천식), plus the completion inputs.
func addKeys(d map[string]any, text string) {
	cho := hangul.Chosung(text)
	qw := hangul.ToQwerty(text)
	d["chosung"] = joinDistinct(cho, strings.ReplaceAll(cho, " ", ""))
	d["qwerty"] = joinDistinct(qw, strings.ReplaceAll(qw, " ", ""))
	d["suggest"] = suggestInputs(text, cho, strings.ToLower(qw))
}

func suggestInputs(in ...string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if r := []rune(s); len(r) > 50 {
			s = string(r[:50])
		}
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func joinDistinct(a, b string) string {
	if a == b || b == "" {
		return a
	}
	return a + " " + b
}

// ExcerptRunes is the length of a post's excerpt, in runes.
const ExcerptRunes = 120

// Excerpt is the start of a post body on one line, as lists show it: the
// first ExcerptRunes runes, whitespace runs folded to one space, and "…" when
// the body is longer. Stored in the document so that a search or feed page
// never has to carry (and the API never has to decode) whole bodies.
func Excerpt(body string) string {
	text := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(text) <= ExcerptRunes {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:ExcerptRunes])) + "…"
}

func nfc(s string) string { return norm.NFC.String(s) }

// DocID is the document id of a MySQL primary key (invariant 7).
func DocID(id uint64) string { return strconv.FormatUint(id, 10) }
