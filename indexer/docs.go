package indexer

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

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

// The document shapes, field for field the mappings in package mappings
// (dynamic: strict there, so a field added here and not there is refused).
// Structs rather than maps: encoding a map sorts its keys through reflection,
// which made the builder most of the CDC worker's own CPU per row.
type (
	contentDoc struct {
		ID             uint64     `json:"id"`
		Title          string     `json:"title"`
		Summary        string     `json:"summary"`
		Body           string     `json:"body"`
		Category       string     `json:"category"`
		Tags           []string   `json:"tags"`
		AuthorNickname string     `json:"author_nickname"`
		PublishedAt    *time.Time `json:"published_at,omitempty"`
		UpdatedAt      time.Time  `json:"updated_at"`
		keys
	}
	postDoc struct {
		ID             uint64    `json:"id"`
		UserID         uint64    `json:"user_id"`
		AuthorNickname string    `json:"author_nickname"`
		Category       string    `json:"category"`
		Title          string    `json:"title"`
		Body           string    `json:"body"`
		Excerpt        string    `json:"excerpt"`
		LikeCount      int       `json:"like_count"`
		CommentCount   int       `json:"comment_count"`
		CreatedAt      time.Time `json:"created_at"`
		UpdatedAt      time.Time `json:"updated_at"`
		keys
	}
	userDoc struct {
		ID        uint64    `json:"id"`
		Nickname  string    `json:"nickname"`
		Bio       string    `json:"bio"`
		CreatedAt time.Time `json:"created_at"`
		keys
	}
	// keys are the fields computed at index time from the title (nickname).
	keys struct {
		Chosung string   `json:"chosung"`
		Qwerty  string   `json:"qwerty"`
		Suggest []string `json:"suggest"`
	}
)

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
	d := contentDoc{
		ID: r.ID, Title: title, Summary: nfc(r.Summary), Body: nfc(r.Body), Category: r.Category, Tags: tags,
		AuthorNickname: nfc(r.AuthorNickname), UpdatedAt: r.UpdatedAt.UTC(), keys: keysOf(title),
	}
	if r.PublishedAt != nil {
		t := r.PublishedAt.UTC()
		d.PublishedAt = &t
	}
	b, err := json.Marshal(d)
	return b, true, err
}

// PostDoc is the posts document. Hidden or deleted posts and posts whose
// author is blocked or deleted are not searchable.
func PostDoc(r PostRow) (doc json.RawMessage, ok bool, err error) {
	if r.Status != "visible" || r.DeletedAt != nil || r.AuthorStatus != "active" || r.AuthorDeleted {
		return nil, false, nil
	}
	if !fitsInteger(r.LikeCount) || !fitsInteger(r.CommentCount) {
		return nil, false, errCountRange
	}
	title, body := nfc(r.Title), nfc(r.Body)
	b, err := json.Marshal(postDoc{
		ID: r.ID, UserID: r.UserID, AuthorNickname: nfc(r.AuthorNickname), Category: r.Category,
		Title: title, Body: body, Excerpt: Excerpt(body), LikeCount: r.LikeCount, CommentCount: r.CommentCount,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), keys: keysOf(title),
	})
	return b, true, err
}

// errCountRange is a post whose like or comment count does not fit the
// index's integer fields: the engine would refuse the document.
var errCountRange = errors.New("like_count or comment_count out of the index's integer range")

// fitsInteger reports whether n fits an engine "integer" field (32 bits).
func fitsInteger(n int) bool { return n >= math.MinInt32 && n <= math.MaxInt32 }

// UserDoc is the users document: public fields only. Blocked and deleted users
// are not searchable.
func UserDoc(r UserRow) (doc json.RawMessage, ok bool, err error) {
	if r.Status != "active" || r.DeletedAt != nil {
		return nil, false, nil
	}
	nick := nfc(r.Nickname)
	b, err := json.Marshal(userDoc{ID: r.ID, Nickname: nick, Bio: nfc(r.Bio), CreatedAt: r.CreatedAt.UTC(), keys: keysOf(nick)})
	return b, true, err
}

// keysOf computes the fields filled at index time: 초성 and the keys typed on
// an English keyboard, for the text itself and for its space-less form (so
// ㅅㅇㅊㅅ finds 소아 천식), plus the completion inputs.
func keysOf(text string) keys {
	cho := hangul.Chosung(text)
	qw := hangul.ToQwerty(text)
	return keys{
		Chosung: joinDistinct(cho, strings.ReplaceAll(cho, " ", "")),
		Qwerty:  joinDistinct(qw, strings.ReplaceAll(qw, " ", "")),
		Suggest: suggestInputs(text, cho, strings.ToLower(qw)),
	}
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
	var b strings.Builder
	n, space := 0, false
	for _, r := range body {
		if unicode.IsSpace(r) {
			space = n > 0
			continue
		}
		if n == ExcerptRunes {
			return b.String() + "…" // more text follows the cut
		}
		if space {
			if n+1 == ExcerptRunes { // a space would be the last rune: cut before it
				return b.String() + "…"
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// nfc returns s in Unicode NFC. Text made only of runes below U+0300 (no
// combining marks there) and precomposed Hangul syllables is NFC already,
// and is nearly all the text here: it skips the normaliser's table lookups.
func nfc(s string) string {
	for _, r := range s {
		if r >= 0x300 && (r < 0xAC00 || r > 0xD7A3) {
			return norm.NFC.String(s)
		}
	}
	return s
}

// DocID is the document id of a MySQL primary key (invariant 7).
func DocID(id uint64) string { return strconv.FormatUint(id, 10) }
