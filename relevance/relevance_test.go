package relevance

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/seed"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRecallAt(t *testing.T) {
	twelve := Judgments{}
	for id := uint64(1); id <= 12; id++ {
		twelve[id] = 1
	}
	for _, tc := range []struct {
		name   string
		k      int
		ranked []uint64
		rel    Judgments
		want   float64
	}{
		{"two of three", 10, []uint64{1, 9, 2}, Judgments{1: 2, 2: 1, 3: 1}, 2.0 / 3},
		{"all found", 10, []uint64{3, 2, 1}, Judgments{1: 2, 2: 1, 3: 1}, 1},
		{"capped: ten of twelve is all k can hold", 10, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, twelve, 1},
		{"capped: five of ten slots", 10, []uint64{1, 50, 2, 51, 3, 52, 4, 53, 5, 54}, twelve, 0.5},
		{"beyond k does not count", 2, []uint64{9, 8, 1}, Judgments{1: 1}, 0},
		{"nothing returned", 10, nil, Judgments{1: 1}, 0},
		{"nothing relevant", 10, []uint64{1}, Judgments{}, 0},
		{"a repeated hit counts once", 10, []uint64{1, 1, 1}, Judgments{1: 1, 2: 1}, 0.5},
	} {
		if got := RecallAt(tc.k, tc.ranked, tc.rel); !near(got, tc.want) {
			t.Errorf("%s: RecallAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNDCGAt(t *testing.T) {
	rel := Judgments{1: 2, 2: 1}
	// Gains 2^g-1: grade 2 → 3, grade 1 → 1; discounts log2(rank+1).
	// IDCG = 3/log2(2) + 1/log2(3) = 3.6309297536.
	for _, tc := range []struct {
		name   string
		k      int
		ranked []uint64
		rel    Judgments
		want   float64
	}{
		{"ideal", 10, []uint64{1, 2}, rel, 1},
		{"ideal, then noise", 10, []uint64{1, 2, 7, 8}, rel, 1},
		{"swapped: (1 + 3/log2 3) / IDCG", 10, []uint64{2, 1}, rel, 0.7967075809905066},
		{"best at rank 2 only: (3/log2 3) / IDCG", 10, []uint64{9, 1}, rel, 0.52129602861432},
		{"repeat earns nothing: (3 + 0 + 1/log2 4) / IDCG", 10, []uint64{1, 1, 2}, rel, 0.9639404333166532},
		{"cut at k=1", 1, []uint64{9, 1, 2}, rel, 0},
		{"ideal is cut at k too", 1, []uint64{1}, Judgments{1: 2, 2: 2, 3: 2}, 1},
		{"nothing returned", 10, nil, rel, 0},
		{"nothing relevant", 10, []uint64{1}, Judgments{}, 0},
	} {
		if got := NDCGAt(tc.k, tc.ranked, tc.rel); !near(got, tc.want) {
			t.Errorf("%s: NDCGAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRule(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rule        Rule
		title, full string
		want        int
	}{
		{"lemma in the title, inflected", Rule{Any: []string{"천식"}}, "아이의 천식이 밤에 심해져요", "…", GradeTitle},
		{"lemma inside a compound", Rule{Any: []string{"천식"}}, "소아천식 진단받았어요", "", GradeTitle},
		{"lemma in the body only", Rule{Any: []string{"흡입기"}}, "폐기능검사 받고 왔어요", "폐기능검사 받고 왔어요\n흡입기를 쓰고 있어요.", GradeBody},
		{"absent", Rule{Any: []string{"흡입기"}}, "폐기능검사", "폐기능검사\n기침이 나요.", GradeNone},
		{"any: one synonym is enough", Rule{Any: []string{"벤토린", "살부타몰"}}, "x", "x\n살부타몰은 완화제", GradeBody},
		{"Latin ignores case", Rule{Any: []string{"FEV1"}}, "fev1 수치", "", GradeTitle},
		{"all: every word", Rule{All: []string{"ICS", "LABA"}}, "ICS/LABA 복합제", "", GradeTitle},
		{"all: one missing", Rule{All: []string{"ICS", "LABA"}}, "ICS 흡입", "ICS 흡입\nICS는 기본 약.", GradeNone},
		{"all split between title and body", Rule{All: []string{"ICS", "LABA"}}, "ICS 흡입", "ICS 흡입\nLABA는 함께 씁니다.", GradeBody},
		{"any and all together", Rule{Any: []string{"아이", "딸"}, All: []string{"기침"}}, "딸이 기침해요", "", GradeTitle},
		{"same sentence: together", Rule{All: []string{"스페이서"}, Any: []string{"씻"}, SameSentence: true}, "t", "t\n스페이서는 한 달에 한 번 씻고 말리세요. 손을 씻으세요.", GradeBody},
		{"same sentence: apart", Rule{All: []string{"스페이서"}, Any: []string{"씻"}, SameSentence: true}, "t", "t\n스페이서를 쓰세요. 손을 씻으세요.", GradeNone},
		{"empty rule matches nothing", Rule{}, "천식", "천식", GradeNone},
	} {
		if got := tc.rule.Grade(tc.title, tc.full); got != tc.want {
			t.Errorf("%s: Grade = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSearchableMatchesTheIndexer(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &seed.Corpus{
		Users: []seed.User{{ID: 1, Status: "active"}, {ID: 2, Status: "blocked"}, {ID: 3, Status: "deleted", DeletedAt: &now}},
		Contents: []seed.Content{
			{ID: 1, Title: "천식", Summary: "요약", Body: "본문", Tags: []string{"태그"}, Status: "published"},
			{ID: 2, Title: "초안", Status: "draft"},
			{ID: 3, Title: "삭제", Status: "published", DeletedAt: &now},
		},
		Posts: []seed.Post{
			{ID: 1, UserID: 1, Title: "글", Body: "내용", Status: "visible"},
			{ID: 2, UserID: 1, Title: "숨김", Status: "hidden"},
			{ID: 3, UserID: 1, Title: "삭제", Status: "visible", DeletedAt: &now},
			{ID: 4, UserID: 2, Title: "차단된 사용자", Status: "visible"},
			{ID: 5, UserID: 3, Title: "탈퇴한 사용자", Status: "visible"},
		},
	}
	if got, want := Searchable(c, mappings.Contents), []Doc{{ID: 1, Title: "천식", Full: "천식\n요약\n본문\n태그"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("contents: %+v, want %+v", got, want)
	}
	if got, want := Searchable(c, mappings.Posts), []Doc{{ID: 1, Title: "글", Full: "글\n내용"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("posts: %+v, want %+v", got, want)
	}
}

func defaultCorpus() *seed.Corpus {
	return seed.Generate(DefaultSeed, seed.DefaultSizes(), DefaultNow())
}

// The embedded judgments: enough queries, every category, and over the
// default corpus every query has relevant documents, and a specific one
// (not every document of its index).
func TestEmbeddedQueries(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 60 {
		t.Errorf("%d queries, want at least 60", len(qs))
	}
	c := defaultCorpus()
	docs := map[string][]Doc{mappings.Contents: Searchable(c, mappings.Contents), mappings.Posts: Searchable(c, mappings.Posts)}
	perCategory := map[string]int{}
	for _, q := range qs {
		perCategory[q.Category]++
		j := Judge(docs[q.Index], q.Rule)
		if len(j) == 0 {
			t.Errorf("%s %q: no relevant %s", q.ID, q.Q, q.Index)
		}
		if len(j) > len(docs[q.Index])*3/4 {
			t.Errorf("%s %q: %d of %d %s relevant: the rule does not discriminate", q.ID, q.Q, len(j), len(docs[q.Index]), q.Index)
		}
	}
	for _, cat := range Categories {
		if perCategory[cat] < 5 {
			t.Errorf("category %s has %d queries, want at least 5", cat, perCategory[cat])
		}
	}
	// The cases the issue names are all there.
	var texts []string
	for _, q := range qs {
		texts = append(texts, q.Q)
	}
	for _, want := range []string{"천식이", "천식은", "흡입기를", "소아천식", "운동유발천식", "인헤일러", "살부타몰", "알부테롤", "숨가쁨", "흡입", "최대호", "ㅊㅅ", "ㅎㅇㄱ", "cjstlr", "gmqdlqrl", "FEV1", "ICS/LABA", "PEF"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no query %q", want)
		}
	}
}

// Some judgments checked against the generator's own text (fragments.go):
// the demo post every test relies on is relevant to 천식이, in its title.
func TestJudgmentsOnTheDefaultCorpus(t *testing.T) {
	c := defaultCorpus()
	posts := Searchable(c, mappings.Posts)
	var required uint64
	for _, d := range posts {
		if d.Title == seed.RequiredTitle {
			required = d.ID
		}
	}
	if required == 0 {
		t.Fatal("the required post is not searchable")
	}
	if g := Judge(posts, Rule{Any: []string{"천식"}})[required]; g != GradeTitle {
		t.Errorf("천식 on %q: grade %d, want %d", seed.RequiredTitle, g, GradeTitle)
	}
	// 인헤일러 never occurs in the corpus: only the synonym rule finds documents.
	contents := Searchable(c, mappings.Contents)
	if n := len(Judge(contents, Rule{Any: []string{"인헤일러"}})); n != 0 {
		t.Errorf("인헤일러 occurs in %d contents; the synonym query would be trivial", n)
	}
	if n := len(Judge(contents, Rule{Any: []string{"흡입기", "인헤일러"}})); n < 10 {
		t.Errorf("흡입기: %d contents, want at least 10", n)
	}
}

// Only timestamps depend on the reference date: the judgments hold for the
// corpus `soomcare seed` loads on any day.
func TestCorpusTextIndependentOfDate(t *testing.T) {
	a := seed.Generate(DefaultSeed, seed.DefaultSizes(), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	b := seed.Generate(DefaultSeed, seed.DefaultSizes(), time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	for _, ix := range []string{mappings.Contents, mappings.Posts} {
		if !reflect.DeepEqual(Searchable(a, ix), Searchable(b, ix)) {
			t.Errorf("%s: searchable text differs between reference dates", ix)
		}
	}
}

func TestParseQueriesRejects(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"not json", `{`},
		{"unknown field", `{"queries":[{"id":"a","category":"particle","q":"천식","index":"posts","rule":{"any":["천식"]},"why":"w","extra":1}]}`},
		{"duplicate id", `{"queries":[{"id":"a","category":"particle","q":"천식","index":"posts","rule":{"any":["천식"]},"why":"w"},{"id":"a","category":"particle","q":"천식","index":"posts","rule":{"any":["천식"]},"why":"w"}]}`},
		{"unknown category", `{"queries":[{"id":"a","category":"x","q":"천식","index":"posts","rule":{"any":["천식"]},"why":"w"}]}`},
		{"users index", `{"queries":[{"id":"a","category":"particle","q":"천식","index":"users","rule":{"any":["천식"]},"why":"w"}]}`},
		{"empty rule", `{"queries":[{"id":"a","category":"particle","q":"천식","index":"posts","rule":{},"why":"w"}]}`},
		{"no why", `{"queries":[{"id":"a","category":"particle","q":"천식","index":"posts","rule":{"any":["천식"]}}]}`},
	} {
		if _, err := ParseQueries([]byte(tc.file)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// Evaluate with scripted systems: scores, categories, the table.
func TestEvaluate(t *testing.T) {
	c := &seed.Corpus{
		Users: []seed.User{{ID: 1, Status: "active"}},
		Posts: []seed.Post{
			{ID: 1, UserID: 1, Title: "천식 흡입기", Body: "", Status: "visible"},
			{ID: 2, UserID: 1, Title: "일기", Body: "흡입기를 썼어요", Status: "visible"},
			{ID: 3, UserID: 1, Title: "일기", Body: "산책", Status: "visible"},
		},
	}
	qs := []Query{
		{ID: "a", Category: "particle", Q: "흡입기를", Index: mappings.Posts, Rule: Rule{Any: []string{"흡입기"}}},
		{ID: "b", Category: "typo", Q: "gmqdlqrl", Index: mappings.Posts, Rule: Rule{Any: []string{"흡입기"}}},
	}
	perfect := SystemFunc(func(_ context.Context, _, _ string) ([]uint64, error) { return []uint64{1, 2}, nil })
	literal := SystemFunc(func(_ context.Context, _, q string) ([]uint64, error) {
		if q == "흡입기를" {
			return []uint64{3, 2}, nil
		}
		return nil, nil
	})
	rep, err := Evaluate(context.Background(), c, qs, []Entry{{"p", perfect, nil}, {"l", literal, nil}, {"s", perfect, []string{"typo"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Mean("p", ""); m.N != 2 || m.Recall != 1 || m.NDCG != 1 {
		t.Errorf("p: %+v", m)
	}
	// l: query a finds 1 of 2 at rank 2 (grade 1): recall 0.5, nDCG (1/log2 3)/(3+1/log2 3); query b nothing.
	wantNDCG := (1 / math.Log2(3)) / (3 + 1/math.Log2(3))
	if m := rep.Mean("l", "particle"); m.N != 1 || !near(m.Recall, 0.5) || !near(m.NDCG, wantNDCG) {
		t.Errorf("l particle: %+v, want recall 0.5 nDCG %v", m, wantNDCG)
	}
	if m := rep.Mean("l", ""); m.N != 2 || !near(m.Recall, 0.25) {
		t.Errorf("l overall: %+v", m)
	}
	if m := rep.Mean("s", ""); m.N != 1 {
		t.Errorf("s ran on %d queries, want only the typo one", m.N)
	}
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"particle", "typo", "overall", "p R@10", "0.500", "s: measured on typo queries only"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}

	boom := errors.New("boom")
	failing := SystemFunc(func(context.Context, string, string) ([]uint64, error) { return nil, boom })
	if _, err := Evaluate(context.Background(), c, qs, []Entry{{"f", failing, nil}}, nil); !errors.Is(err, boom) {
		t.Errorf("failing system: %v", err)
	}
	noRel := []Query{{ID: "z", Category: "particle", Q: "x", Index: mappings.Posts, Rule: Rule{Any: []string{"없는말"}}}}
	if _, err := Evaluate(context.Background(), c, noRel, []Entry{{"p", perfect, nil}}, nil); err == nil {
		t.Error("a query without relevant documents was accepted")
	}
}
