package searchapi

import (
	"fmt"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/soomcare/soomcare/mappings"
)

// The response shapes (components of the OpenAPI document). Each hit type
// lists the fields the app may see; documents are decoded into these
// structs, so a field that is in the index but not here can never leak.

// Total is the number of matching documents; relation is "eq", or "gte"
// when the engine stopped counting.
type Total struct {
	Value    int64  `json:"value"`
	Relation string `json:"relation"`
}

// ContentHit is an information article.
type ContentHit struct {
	ID             uint64              `json:"id"`
	Title          string              `json:"title"`
	Summary        string              `json:"summary"`
	Category       string              `json:"category"`
	Tags           []string            `json:"tags"`
	AuthorNickname string              `json:"author_nickname"`
	PublishedAt    *time.Time          `json:"published_at,omitempty"`
	Highlight      map[string][]string `json:"highlight,omitempty"`
}

// PostHit is a community post. Excerpt is the start of the body as plain
// text; highlight.body holds HTML-escaped fragments around the matches.
type PostHit struct {
	ID             uint64              `json:"id"`
	AuthorID       uint64              `json:"author_id"`
	AuthorNickname string              `json:"author_nickname"`
	Category       string              `json:"category"`
	Title          string              `json:"title"`
	Excerpt        string              `json:"excerpt"`
	LikeCount      int                 `json:"like_count"`
	CommentCount   int                 `json:"comment_count"`
	CreatedAt      time.Time           `json:"created_at"`
	Highlight      map[string][]string `json:"highlight,omitempty"`
}

// UserHit is a user's public profile: id, nickname, bio. Nothing else.
type UserHit struct {
	ID        uint64              `json:"id"`
	Nickname  string              `json:"nickname"`
	Bio       string              `json:"bio"`
	Highlight map[string][]string `json:"highlight,omitempty"`
}

// Page is one page of hits of a kind.
type Page[T any] struct {
	Hits       []T    `json:"hits"`
	Total      *Total `json:"total,omitempty"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// MultiResponse is the combined search: a section per requested type. A
// section's next_cursor continues on that type's own search endpoint.
type MultiResponse struct {
	Sections struct {
		Contents *Page[ContentHit] `json:"contents,omitempty"`
		Posts    *Page[PostHit]    `json:"posts,omitempty"`
		Users    *Page[UserHit]    `json:"users,omitempty"`
	} `json:"sections"`
}

// Suggestion is one autocomplete entry: what to show and what it opens:
// a document (contents, posts, users: its id), or a popular past query
// (SuggestQuery: no id; the app searches for the text).
type Suggestion struct {
	Type string `json:"type"` // contents | posts | users | query
	ID   uint64 `json:"id,omitempty"`
	Text string `json:"text"`
}

// SuggestResponse lists suggestions: popular queries first, then contents,
// posts, users.
type SuggestResponse struct {
	Suggestions []Suggestion `json:"suggestions"`
}

// FeedResponse is one page of the community feed. Hits is named as in
// the search answers; Posts holds the same list under its former name, a
// deprecated alias kept for one release (remove it in the next).
type FeedResponse struct {
	Hits       []PostHit `json:"hits"`
	Posts      []PostHit `json:"posts"` // Deprecated: use Hits.
	NextCursor string    `json:"next_cursor,omitempty"`
}

// pageOf turns a result into a page: at most size hits, and a cursor when
// the engine returned the extra hit that proves a next page exists.
func pageOf[T any](r result, size int, fp string, conv func(rawHit) (T, error)) (*Page[T], error) {
	p := &Page[T]{Hits: make([]T, 0, min(size, len(r.Hits.Hits))), Total: r.Hits.Total}
	hits := r.Hits.Hits
	more := len(hits) > size
	if more {
		hits = hits[:size]
	}
	for _, h := range hits {
		v, err := conv(h)
		if err != nil {
			return nil, err
		}
		p.Hits = append(p.Hits, v)
	}
	if more {
		c, err := encodeCursor(fp, hits[len(hits)-1].Sort)
		if err != nil {
			return nil, err
		}
		p.NextCursor = c
	}
	return p, nil
}

func decodeSource(h rawHit, into any) error {
	if err := gojson.Unmarshal(h.Source, into); err != nil {
		return fmt.Errorf("document %s: %w", h.ID, err)
	}
	return nil
}

// highlights keeps the fragments of the fields a kind highlights.
func highlights(kind string, h map[string][]string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for _, f := range layouts[kind].highlight {
		if v := h[f]; len(v) > 0 {
			out[f] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// contentHit, postHit and userHit decode a hit's _source (the fields
// SearchBody asks for) into the answer's shape itself, so a field the
// shape lacks cannot reach the client, and add the highlights.
func contentHit(h rawHit) (ContentHit, error) {
	var c ContentHit
	if err := decodeSource(h, &c); err != nil {
		return ContentHit{}, err
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	c.Highlight = highlights(mappings.Contents, h.Highlight)
	return c, nil
}

// postHit: the document's user_id is the answer's author_id.
func postHit(h rawHit) (PostHit, error) {
	var s struct {
		PostHit
		UserID uint64 `json:"user_id"`
	}
	if err := decodeSource(h, &s); err != nil {
		return PostHit{}, err
	}
	p := s.PostHit
	p.AuthorID, p.Highlight = s.UserID, highlights(mappings.Posts, h.Highlight)
	return p, nil
}

func userHit(h rawHit) (UserHit, error) {
	var u UserHit
	if err := decodeSource(h, &u); err != nil {
		return UserHit{}, err
	}
	u.Highlight = highlights(mappings.Users, h.Highlight)
	return u, nil
}
