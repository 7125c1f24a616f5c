package searchapi

import (
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/mappings"
)

// A corpus whose titles repeat the way the demo corpus's and real
// communities' do: one article title on three articles (one with doubled
// spaces) and five posts, a post title on four posts, titles equal but for
// case or Unicode normalisation (NFD in MySQL; the indexer stores NFC).
var dupArticles = []string{
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린(살부타몰),  언제 어떻게  써야 할까",
	"흡입스테로이드(ICS), 오래 써도 괜찮을까요?",
	"흡입스테로이드(ICS), 오래 써도 괜찮을까요?",
	"흡입스테로이드(ICS), 오래 써도 괜찮을까요?",
	"흡입기, 제대로 쓰고 계신가요?",
}

var dupPosts = []string{
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린(살부타몰), 언제 어떻게 써야 할까",
	"벤토린 없이 외출했다가 식겁했어요",
	"벤토린 없이 외출했다가 식겁했어요",
	"벤토린 없이 외출했다가 식겁했어요",
	"\u1107\u1166\u11ab\u1110\u1169\u1105\u1175\u11ab 없이 외출했다가 식겁했어요", // NFD
	"벤토린을 하루에 몇 번까지 써도 되나요?",
	"벤토린을 하루에 몇 번까지 써도 되나요?",
	"벤토린을 하루에 몇 번까지 써도 되나요?",
	"벤토린과 비염약 같이 써도 되나요?",
	"벤토린으로 바꾸고 3주 지난 후기",
	"벤토린으로 바꾸고 3주 지난 후기",
	"벤토린으로 바꾸고 4주 지난 후기",
	"흡입스테로이드(ics), 오래 써도 괜찮을까요?",
	"흡입기 사용법 정리해 봤어요",
	"흡입기 사용법 정리해 봤어요",
	"흡입기 사용법 정리해 봤어요",
	"흡입기를 쓰고 나서 입을 꼭 헹궈야 하나요?",
	"흡입기를 쓰고 나서 입을 꼭 헹궈야 하나요?",
	"흡입기를 하루에 몇 번까지 써도 되나요?",
	"흡입기로 바꾸고 3주 지난 후기",
}

func dupFixture(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO users (id, email, nickname, bio, role, status) VALUES
		(1, 'a@example.test', '숨쉬는고래', '', 'user', 'active'), (4, 'd@example.test', '편집자', '', 'editor', 'active')`); err != nil {
		t.Fatal(err)
	}
	for i, title := range dupArticles {
		if _, err := db.Exec(`INSERT INTO contents (id, author_id, title, body, summary, category, tags, status, published_at)
			VALUES (?, 4, ?, '본문', '요약', '약물', '[]', 'published', '2024-03-01 03:00:00')`, i+1, title); err != nil {
			t.Fatal(err)
		}
	}
	for i, title := range dupPosts {
		if _, err := db.Exec(`INSERT INTO posts (id, user_id, category, title, body, like_count, created_at)
			VALUES (?, 1, '질문', ?, '본문', ?, '2024-05-01 00:00:00')`, 100+i, title, i%3); err != nil {
			t.Fatal(err)
		}
	}
}

// Suggestions on a corpus with repeated titles, on both engines: never one
// text twice (NFC, spaces, case), and size filled while distinct texts remain.
func TestIntegrationSuggestNoRepeats(t *testing.T) {
	db, _ := testdb.New(t)
	dupFixture(t, db)
	envs := buildEnvs(t, db)
	// The six distinct 벤토린 titles (the article's in both kinds counts once).
	bentolin := []string{"벤토린(살부타몰), 언제 어떻게 써야 할까", "벤토린 없이 외출했다가 식겁했어요", "벤토린을 하루에 몇 번까지 써도 되나요?",
		"벤토린과 비염약 같이 써도 되나요?", "벤토린으로 바꾸고 3주 지난 후기", "벤토린으로 바꾸고 4주 지난 후기"}
	suggest := func(t *testing.T, s searchEnv, params url.Values) []Suggestion {
		t.Helper()
		var out SuggestResponse
		if code := s.get(t, "/v1/search/suggest", params, &out); code != 200 {
			t.Fatalf("%v: %d", params, code)
		}
		return out.Suggestions
	}
	keys := func(list []Suggestion) []string {
		var out []string
		for _, s := range list {
			out = append(out, suggestKey(s.Text))
		}
		slices.Sort(out)
		return out
	}
	for _, s := range envs {
		t.Run(s.kind, func(t *testing.T) {
			queries := []string{"qpsxhfls", "벤토", "벤토린", "ㅂㅌㄹ", "흡입", "gmqdlq", "ㅎㅇ", "흡입스테로이드", "ㅎㅇㅅㅌㄹㅇㄷ"}
			if s.profile == mappings.ProfileBasic {
				queries = []string{"qpsxhfls", "벤토", "ㅂㅌㄹ", "흡입", "gmqdlq"} // no nori: completion and prefixes only
			}
			for _, q := range queries {
				for _, size := range []string{"3", "8", "20"} {
					for _, types := range []string{"contents,posts", "posts", "contents"} {
						got := suggest(t, s, url.Values{"q": {q}, "size": {size}, "types": {types}})
						if k := keys(got); len(slices.Compact(k)) != len(k) {
							t.Errorf("%s size %s types %s: a text repeats in %+v", q, size, types, got)
						}
						if len(got) == 0 {
							t.Errorf("%s size %s types %s: nothing", q, size, types)
						}
					}
				}
			}
			// The two examples: every distinct title once, no more.
			for _, tc := range []struct {
				q    string
				want []string
			}{
				{"qpsxhfls", bentolin},
				{"벤토", bentolin},
				{"ㅂㅌㄹ", bentolin},
			} {
				got := suggest(t, s, url.Values{"q": {tc.q}, "size": {"20"}, "types": {"contents,posts"}})
				want := slices.Clone(tc.want)
				for i := range want {
					want[i] = suggestKey(want[i])
				}
				slices.Sort(want)
				if k := keys(got); !slices.Equal(k, want) {
					t.Errorf("%s: %d suggestions %+v, want the %d distinct titles %q", tc.q, len(got), got, len(want), want)
				}
				// Fewer slots than distinct titles: every slot filled.
				for _, size := range []int{2, 4, 5} {
					got := suggest(t, s, url.Values{"q": {tc.q}, "size": {fmt.Sprint(size)}, "types": {"contents,posts"}})
					if len(got) != size {
						t.Errorf("%s size %d: %d suggestions %+v", tc.q, size, len(got), got)
					}
				}
			}
			if s.profile == mappings.ProfileNori {
				got := suggest(t, s, url.Values{"q": {"흡입"}, "size": {"20"}, "types": {"contents,posts"}})
				var ics []Suggestion
				for _, x := range got {
					if strings.HasPrefix(x.Text, "흡입스테로이드") {
						ics = append(ics, x)
					}
				}
				if len(ics) != 1 || ics[0].Type != mappings.Contents {
					t.Errorf("흡입: the ICS title should come once, as the article: %+v", got)
				}
			}
		})
	}
}
