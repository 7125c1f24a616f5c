package seed

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func TestGenerateDeterministic(t *testing.T) {
	a := Generate(20261125, DefaultSizes(), testNow)
	b := Generate(20261125, DefaultSizes(), testNow)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different corpora")
	}
	if c := Generate(7, DefaultSizes(), testNow); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same corpus")
	}
}

func TestGenerateCorpus(t *testing.T) {
	sz := DefaultSizes()
	c := Generate(20261125, sz, testNow)
	if len(c.Users) != sz.Users || len(c.Contents) != sz.Contents || len(c.Posts) != sz.Posts {
		t.Fatalf("sizes: %d users, %d contents, %d posts; want %+v", len(c.Users), len(c.Contents), len(c.Posts), sz)
	}
	users := map[int64]User{}
	nicks := map[string]bool{}
	roles := map[string]int{}
	for i, u := range c.Users {
		if u.ID != int64(i+1) || nicks[u.Nickname] || !isKorean(u.Nickname) {
			t.Fatalf("user %d: id or nickname %q duplicated/bad", i, u.Nickname)
		}
		if (u.Status == "deleted") != (u.DeletedAt != nil) {
			t.Errorf("user %d: status %s, deleted_at %v", u.ID, u.Status, u.DeletedAt)
		}
		nicks[u.Nickname] = true
		users[u.ID] = u
		roles[u.Role]++
	}
	if roles["admin"] != 1 || roles["editor"] != 10 {
		t.Errorf("roles: %v", roles)
	}
	cats := map[string]bool{}
	for _, k := range categories {
		cats[k] = true
	}
	for i, a := range c.Contents {
		if a.ID != int64(i+1) || users[a.AuthorID].Role != "editor" || !cats[a.Category] {
			t.Fatalf("content %d: id, author %d or category %q", a.ID, a.AuthorID, a.Category)
		}
		if n := len(strings.Split(a.Body, "\n\n")); n < 3 {
			t.Errorf("content %d: %d paragraphs", a.ID, n)
		}
		if len(a.Tags) < 2 || len(a.Tags) > 5 || (a.Status == "published") != (a.PublishedAt != nil) {
			t.Errorf("content %d: tags %v, status %s", a.ID, a.Tags, a.Status)
		}
		if a.CreatedAt.After(testNow) || a.UpdatedAt.Before(a.CreatedAt) {
			t.Errorf("content %d: times", a.ID)
		}
	}
	required := 0
	for i, p := range c.Posts {
		if p.ID != int64(i+1) || users[p.UserID].Status != "active" || p.CreatedAt.Before(testNow.Add(-365*day)) || !p.CreatedAt.Before(testNow) {
			t.Fatalf("post %d: id, author or created_at %v", p.ID, p.CreatedAt)
		}
		if p.Title == RequiredTitle {
			required++
			if p.Status != "visible" || p.DeletedAt != nil {
				t.Errorf("required post %d is not visible", p.ID)
			}
		}
		if strings.ContainsAny(p.Title+p.Body, "{}") {
			t.Errorf("post %d: unexpanded template: %s %s", p.ID, p.Title, p.Body)
		}
	}
	if required != 1 {
		t.Errorf("%d posts titled %q, want 1", required, RequiredTitle)
	}

	comments, likes := map[int64]int{}, map[int64]int{}
	byID := map[int64]Comment{}
	for i, cm := range c.Comments {
		if cm.ID != int64(i+1) {
			t.Fatalf("comment %d: id %d", i, cm.ID)
		}
		byID[cm.ID] = cm
		if cm.ParentID != nil {
			parent, ok := byID[*cm.ParentID]
			if !ok || parent.PostID != cm.PostID || parent.ParentID != nil {
				t.Errorf("comment %d: parent %d is not an earlier top-level comment of post %d", cm.ID, *cm.ParentID, cm.PostID)
			}
		}
		if cm.DeletedAt == nil {
			comments[cm.PostID]++
		}
	}
	seen := map[[2]int64]bool{}
	for i, l := range c.PostLikes {
		k := [2]int64{l.PostID, l.UserID}
		if l.ID != int64(i+1) || seen[k] {
			t.Fatalf("like %d: id or duplicate (post, user) %v", l.ID, k)
		}
		seen[k] = true
		likes[l.PostID]++
	}
	for _, p := range c.Posts {
		if p.CommentCount != comments[p.ID] || p.LikeCount != likes[p.ID] {
			t.Errorf("post %d: counts %d/%d, rows %d/%d", p.ID, p.CommentCount, p.LikeCount, comments[p.ID], likes[p.ID])
		}
	}
	if len(c.Comments) == 0 || len(c.PostLikes) == 0 {
		t.Errorf("%d comments, %d likes", len(c.Comments), len(c.PostLikes))
	}
}

func TestSizesValidate(t *testing.T) {
	for _, s := range []Sizes{{Users: -1}, {Users: 10, Posts: 5}, {Users: 50, MaxCommentsPerPost: 1000}} {
		if s.Validate() == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	c := Generate(1, Sizes{Users: 20, Contents: 1, Posts: 3}, testNow)
	if len(c.Users) != 20 || len(c.Contents) != 1 || len(c.Posts) != 3 || len(c.Comments) != 0 || len(c.PostLikes) != 0 {
		t.Errorf("small corpus: %d %d %d %d %d", len(c.Users), len(c.Contents), len(c.Posts), len(c.Comments), len(c.PostLikes))
	}
	if c := Generate(1, Sizes{}, testNow); len(c.Users) != 0 {
		t.Error("empty sizes gave rows")
	}
}

func TestParticles(t *testing.T) {
	for tmpl, want := range map[string]string{
		"{x}{을}":  "벤토린을",
		"{y}{이}":  "아이가",
		"{z}{으로}": "흡입기로",
		"{w}{은}":  "천식은",
		"{v}{을}":  "최대호기유량(PEF)을",
	} {
		got := expand(rand.New(rand.NewPCG(1, 2)), tmpl, slots{"x": {"벤토린"}, "y": {"아이"}, "z": {"흡입기"}, "w": {"천식"}, "v": {"최대호기유량(PEF)"}})
		if got != want {
			t.Errorf("%s: %s, want %s", tmpl, got, want)
		}
	}
}
