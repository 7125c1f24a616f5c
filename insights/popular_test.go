package insights

import (
	"slices"
	"testing"
)

func TestPopularMatch(t *testing.T) {
	p := NewPopular()
	p.Set([]QueryCount{
		{"천식 흡입기", 3}, {"흡입기 사용법", 9}, {"흡입기", 12}, {"벤토린 부작용", 7},
		{"FEV1 정상수치", 4}, {"  흡입기  ", 1}, {"천식", 20},
	})
	tests := []struct {
		q    string
		n    int
		want []string
	}{
		{"흡입", 5, []string{"흡입기", "흡입기 사용법"}}, // most searched first; "  흡입기  " is 흡입기 again
		{"흡입", 1, []string{"흡입기"}},
		{"천식", 5, []string{"천식", "천식 흡입기"}},
		{"천시", 5, []string{"천식", "천식 흡입기"}},   // a syllable still being composed
		{"ㅎㅇ", 5, []string{"흡입기", "흡입기 사용법"}}, // 초성
		{"qpsxh", 5, []string{"벤토린 부작용"}},     // English keyboard: 벤토
		{"fev", 5, []string{"fev1 정상수치"}},     // lower case, as stored
		{"폐기능", 5, nil},
		{"", 5, nil},
	}
	for _, tt := range tests {
		if got := p.Match(tt.q, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Match(%q, %d) = %q, want %q", tt.q, tt.n, got, tt.want)
		}
	}
}

func TestPopularKeepsTheMostSearched(t *testing.T) {
	counts := make([]QueryCount, PopularSize+50)
	for i := range counts {
		counts[i] = QueryCount{Query: "q" + string(rune('가'+i)), Count: int64(i + 1)}
	}
	p := NewPopular()
	p.Set(counts)
	list := *p.list.Load()
	if len(list) != PopularSize || list[0].count != int64(PopularSize+50) || list[len(list)-1].count != 51 {
		t.Fatalf("kept %d, first %d, last %d", len(list), list[0].count, list[len(list)-1].count)
	}
}

// #27: popular queries are shown in the Hangul they stand for (cjstlr is
// 천식, counted once), 초성 input is never shown, and #26: a query the
// filter refuses never is; an editor's block applies at once.
func TestPopularNormalisesAndFilters(t *testing.T) {
	p := NewPopular()
	p.Set([]QueryCount{
		{"천식", 9}, {"cjstlr", 7}, {"ㅊㅅ", 30}, {"천식 pentest 오염 테스트 scam.pentest.example", 50},
		{"천식 병원 010-1234-5678", 40}, {"천식 me@example.test", 40}, {"천식 흡입기", 6}, {"cjstlr dnsehd", 5},
	})
	tests := []struct {
		q    string
		want []QueryCount
	}{
		{"천", []QueryCount{{"천식", 9}, {"천식 흡입기", 6}, {"천식 운동", 5}}},
		{"ㅊ", []QueryCount{{"천식", 9}, {"천식 흡입기", 6}, {"천식 운동", 5}}},
		{"천식 p", nil},
		{"cjstlr", []QueryCount{{"천식", 9}, {"천식 흡입기", 6}, {"천식 운동", 5}}},
	}
	for _, tt := range tests {
		if got := p.Shown(tt.q, 10); !slices.Equal(got, tt.want) {
			t.Errorf("Shown(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
	p.SetBlocks([]Block{{Text: "천식 흡입기", Match: MatchExact}, {Text: "운동", Match: MatchContains}})
	if got, want := p.Match("천", 10), []string{"천식"}; !slices.Equal(got, want) {
		t.Fatalf("after blocks: Match(천) = %q, want %q", got, want)
	}
	p.SetBlocks(nil)
	if got := p.Match("천", 10); len(got) != 3 {
		t.Fatalf("after unblocking: Match(천) = %q", got)
	}
}
