// Package seed generates and loads the deterministic demo corpus of 숨케어:
// users, editors' asthma self-care articles (contents), community posts,
// comments and likes, written in Korean so that the nori search indices have
// realistic text to analyse. MySQL is the only target: the CDC worker or
// `soomcare reindex` brings the rows to the search indices.
package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Sizes says how many rows Generate writes.
type Sizes struct {
	Users              int
	Contents           int
	Posts              int
	MaxCommentsPerPost int // each post gets 0..MaxCommentsPerPost comments
	MaxLikesPerPost    int // each post gets 0..MaxLikesPerPost likes (skewed towards few)
}

// DefaultSizes is the demo corpus: 500 users, 200 contents, 2000 posts.
func DefaultSizes() Sizes {
	return Sizes{Users: 500, Contents: 200, Posts: 2000, MaxCommentsPerPost: 6, MaxLikesPerPost: 40}
}

// MinUsers is the fewest users a corpus with contents or posts needs (an
// admin, editors and enough authors for unique likes).
const MinUsers = 20

// Validate reports sizes Generate cannot honour.
func (s Sizes) Validate() error {
	switch {
	case s.Users < 0 || s.Contents < 0 || s.Posts < 0 || s.MaxCommentsPerPost < 0 || s.MaxLikesPerPost < 0:
		return fmt.Errorf("seed: sizes must not be negative: %+v", s)
	case (s.Posts > 0 || s.Contents > 0) && s.Users < MinUsers:
		return fmt.Errorf("seed: %d users is too few: contents and posts need at least %d", s.Users, MinUsers)
	case s.Users > 1_000_000 || s.Contents > 1_000_000 || s.Posts > 10_000_000:
		return fmt.Errorf("seed: sizes too large: %+v", s)
	case s.MaxCommentsPerPost > 100:
		return fmt.Errorf("seed: at most 100 comments per post (got %d)", s.MaxCommentsPerPost)
	}
	return nil
}

// Row types mirror the tables; ids are explicit (1..N per table).

type User struct {
	ID          int64
	Email       string
	Nickname    string
	Bio         string
	Role        string // user, editor, admin
	Status      string // active, blocked, deleted
	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

type Content struct {
	ID          int64
	AuthorID    int64
	Title       string
	Body        string // paragraphs separated by a blank line
	Summary     string
	Category    string
	Tags        []string
	Status      string // draft, published
	PublishedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

type Post struct {
	ID           int64
	UserID       int64
	Category     string
	Title        string
	Body         string
	LikeCount    int
	CommentCount int    // comments not soft-deleted
	Status       string // visible, hidden
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeletedAt    *time.Time
}

type Comment struct {
	ID        int64
	PostID    int64
	UserID    int64
	ParentID  *int64 // a top-level comment of the same post
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
}

type PostLike struct {
	ID        int64
	PostID    int64
	UserID    int64
	CreatedAt time.Time
}

// Corpus is a whole generated data set, in insertion (foreign key) order.
type Corpus struct {
	Users     []User
	Contents  []Content
	Posts     []Post
	Comments  []Comment
	PostLikes []PostLike
}

const day = 24 * time.Hour

// Generate builds the corpus for seed and sizes, with every timestamp before
// now. It is pure: the same arguments give the same corpus. It panics when
// sizes.Validate fails.
func Generate(seed int64, sizes Sizes, now time.Time) *Corpus {
	if err := sizes.Validate(); err != nil {
		panic(err)
	}
	g := &gen{rng: rand.New(rand.NewPCG(uint64(seed), 0x50_0c_a4e)), now: now.UTC().Truncate(time.Microsecond)}
	c := &Corpus{}
	c.Users = g.users(sizes.Users)
	c.Contents = g.contents(sizes.Contents, c.Users)
	c.Posts = g.posts(sizes.Posts, c.Users)
	c.Comments = g.comments(c.Posts, c.Users, sizes.MaxCommentsPerPost)
	c.PostLikes = g.likes(c.Posts, c.Users, sizes.MaxLikesPerPost)
	return c
}

type gen struct {
	rng *rand.Rand
	now time.Time
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// between returns a time in [a, b), truncated to DATETIME(6) precision.
func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.rng.Int64N(int64(b.Sub(a))))).Truncate(time.Microsecond)
}

func (g *gen) text(tmpl string) string { return expand(g.rng, tmpl, postSlots) }

func ptr[T any](v T) *T { return &v }

func (g *gen) users(n int) []User {
	editors := min(10, max(1, n/20))
	seen := make(map[string]bool, n)
	out := make([]User, n)
	for i := range out {
		u := &out[i]
		u.ID = int64(i + 1)
		u.Email = fmt.Sprintf("user%04d@example.test", u.ID)
		for try := 0; ; try++ {
			limit := 99
			if try > 20 {
				limit = 99999
			}
			nick := fmt.Sprintf("%s%s%d", pick(g.rng, nickAdjectives), pick(g.rng, nickNouns), 1+g.rng.IntN(limit))
			if !seen[nick] {
				seen[nick] = true
				u.Nickname = nick
				break
			}
		}
		u.Bio = g.text(pick(g.rng, bios))
		u.Role, u.Status = "user", "active"
		switch {
		case i == 0:
			u.Role = "admin"
		case i <= editors:
			u.Role = "editor"
		case g.chance(0.01):
			u.Status = "deleted"
		case g.chance(0.02):
			u.Status = "blocked"
		}
		u.CreatedAt = g.between(g.now.Add(-730*day), g.now.Add(-30*day))
		if u.Role != "user" {
			u.CreatedAt = g.between(g.now.Add(-760*day), g.now.Add(-740*day))
		}
		u.UpdatedAt = u.CreatedAt
		if u.Status == "deleted" {
			u.DeletedAt = ptr(g.between(u.CreatedAt, g.now))
			u.UpdatedAt = *u.DeletedAt
		} else {
			u.LastLoginAt = ptr(g.between(u.CreatedAt, g.now))
		}
	}
	return out
}

// authors returns the ids of users who can write: not deleted, not blocked.
func authors(users []User, role string) []int64 {
	var ids []int64
	for _, u := range users {
		if u.Status == "active" && (role == "" || u.Role == role) {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

func (g *gen) contents(n int, users []User) []Content {
	if n == 0 {
		return nil
	}
	editors := authors(users, "editor")
	out := make([]Content, n)
	for i := range out {
		c := &out[i]
		c.ID = int64(i + 1)
		c.AuthorID = pick(g.rng, editors)
		t := topics[g.rng.IntN(len(topics))]
		c.Title = pick(g.rng, t.titles)
		c.Category = t.category
		c.Tags = sample(g.rng, t.tags, 2+g.rng.IntN(4))
		c.Body = g.article(t)
		c.Summary = expand(g.rng, pick(g.rng, summaryTemplates), slots{"name": {t.name}})
		if g.chance(0.9) {
			c.Status = "published"
			c.PublishedAt = ptr(g.between(g.now.Add(-730*day), g.now))
			c.CreatedAt = c.PublishedAt.Add(-time.Duration(1+g.rng.IntN(14)) * day)
		} else {
			c.Status = "draft"
			c.CreatedAt = g.between(g.now.Add(-60*day), g.now)
		}
		c.UpdatedAt = c.CreatedAt
		if c.PublishedAt != nil {
			c.UpdatedAt = *c.PublishedAt
		}
		if g.chance(0.03) {
			c.DeletedAt = ptr(g.between(c.UpdatedAt, g.now))
			c.UpdatedAt = *c.DeletedAt
		}
	}
	return out
}

// article writes 4–8 paragraphs: the topic's own sentences first, then two
// other topics' (so articles mix related advice), then a closing paragraph.
// No sentence repeats within an article.
func (g *gen) article(t topic) string {
	pool := sample(g.rng, t.sentences, len(t.sentences))
	for _, j := range sample(g.rng, g.rng.Perm(len(topics)), 3) {
		if o := topics[j]; o.name != t.name && len(pool) < len(t.sentences)+8 {
			pool = append(pool, sample(g.rng, o.sentences, 4)...)
		}
	}
	n := 4 + g.rng.IntN(5) // paragraphs, the last one is the closing
	m := min(len(pool), 2*(n-1)+g.rng.IntN(n))
	paras := make([]string, 0, n)
	for p := range n - 1 {
		paras = append(paras, strings.Join(pool[p*m/(n-1):(p+1)*m/(n-1)], " "))
	}
	paras = append(paras, strings.Join(sample(g.rng, generalSentences, 2), " "))
	return strings.Join(paras, "\n\n")
}

func (g *gen) posts(n int, users []User) []Post {
	if n == 0 {
		return nil
	}
	writers := authors(users, "")
	created := make(map[int64]time.Time, len(users))
	for _, u := range users {
		created[u.ID] = u.CreatedAt
	}
	required := g.rng.IntN(n)
	out := make([]Post, n)
	for i := range out {
		p := &out[i]
		p.ID = int64(i + 1)
		p.UserID = pick(g.rng, writers)
		p.Status = "visible"
		if i == required {
			p.Category, p.Title, p.Body = "소아천식", RequiredTitle, strings.Join(requiredBody, " ")
		} else {
			p.Category = pick(g.rng, postCategories)
			p.Title = g.text(pick(g.rng, postTitles[p.Category]))
			ss := []string{g.text(pick(g.rng, postOpeners[p.Category]))}
			for _, m := range sample(g.rng, postMiddles, 1+g.rng.IntN(3)) {
				ss = append(ss, g.text(m))
			}
			ss = append(ss, pick(g.rng, postClosers[p.Category]))
			p.Body = strings.Join(ss, " ")
			if g.chance(0.02) {
				p.Status = "hidden"
			}
		}
		from := g.now.Add(-365 * day)
		if c := created[p.UserID]; c.After(from) {
			from = c
		}
		p.CreatedAt = g.between(from, g.now)
		p.UpdatedAt = p.CreatedAt
		if i != required && g.chance(0.03) {
			p.DeletedAt = ptr(g.between(p.CreatedAt, g.now))
			p.UpdatedAt = *p.DeletedAt
		}
	}
	return out
}

func (g *gen) comments(posts []Post, users []User, maxPer int) []Comment {
	writers := authors(users, "")
	var out []Comment
	for i := range posts {
		p := &posts[i]
		var tops []int // indexes in out of this post's top-level comments
		k := g.rng.IntN(maxPer + 1)
		for range k {
			c := Comment{ID: int64(len(out) + 1), PostID: p.ID, UserID: pick(g.rng, writers)}
			after := p.CreatedAt
			if len(tops) > 0 && g.chance(0.3) {
				parent := out[pick(g.rng, tops)]
				c.ParentID = ptr(parent.ID)
				c.Body = pick(g.rng, replyTemplates)
				after = parent.CreatedAt
			} else {
				c.Body = g.text(pick(g.rng, commentTemplates))
				tops = append(tops, len(out))
			}
			c.CreatedAt = g.between(after, g.now)
			c.UpdatedAt = c.CreatedAt
			if g.chance(0.03) {
				c.DeletedAt = ptr(g.between(c.CreatedAt, g.now))
				c.UpdatedAt = *c.DeletedAt
			} else {
				p.CommentCount++
			}
			out = append(out, c)
		}
	}
	return out
}

func (g *gen) likes(posts []Post, users []User, maxPer int) []PostLike {
	likers := authors(users, "")
	var out []PostLike
	for i := range posts {
		p := &posts[i]
		k := int(math.Pow(g.rng.Float64(), 2.5) * float64(min(maxPer, len(likers))+1))
		for _, u := range sample(g.rng, likers, k) {
			out = append(out, PostLike{ID: int64(len(out) + 1), PostID: p.ID, UserID: u, CreatedAt: g.between(p.CreatedAt, g.now)})
		}
		p.LikeCount = k
	}
	return out
}
