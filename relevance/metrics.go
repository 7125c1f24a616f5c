package relevance

import "math"

// K is the cut-off of both measures.
const K = 10

// RecallAt is the share of the relevant documents found in the first k
// results, out of the most that k results can hold: |relevant ∩ top k| /
// min(k, |relevant|) (capped recall, as in BEIR). A query with more than k
// relevant documents scores 1 when its first k results are all relevant.
// With no relevant documents it is 0 (such a query is a bad judgment, which
// the tests reject).
func RecallAt(k int, ranked []uint64, rel Judgments) float64 {
	n := min(k, len(rel))
	if n == 0 {
		return 0
	}
	found := 0
	for _, g := range grades(k, ranked, rel) {
		if g > 0 {
			found++
		}
	}
	return float64(found) / float64(n)
}

// NDCGAt is the normalised discounted cumulative gain of the first k
// results, with exponential gain 2^grade − 1 and discount log2(rank+1):
// DCG of the ranking over DCG of the ideal ranking (every relevant document
// by grade, best first). 0 when nothing is relevant.
func NDCGAt(k int, ranked []uint64, rel Judgments) float64 {
	var dcg float64
	for i, g := range grades(k, ranked, rel) {
		dcg += gain(g) / math.Log2(float64(i+2))
	}
	ideal := make([]int, 0, len(rel))
	for _, g := range rel {
		ideal = append(ideal, g)
	}
	// Sort grades descending (few distinct values: counting is enough).
	var idcg float64
	rank := 0
	for g := GradeTitle; g > GradeNone && rank < k; g-- {
		for _, x := range ideal {
			if x == g && rank < k {
				idcg += gain(g) / math.Log2(float64(rank+2))
				rank++
			}
		}
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

func gain(grade int) float64 { return math.Exp2(float64(grade)) - 1 }

// grades are the grades of the first k results; a document listed again
// keeps its rank but earns nothing the second time.
func grades(k int, ranked []uint64, rel Judgments) []int {
	ranked = ranked[:min(k, len(ranked))]
	out := make([]int, len(ranked))
	seen := make(map[uint64]bool, len(ranked))
	for i, id := range ranked {
		if !seen[id] {
			out[i] = rel[id]
		}
		seen[id] = true
	}
	return out
}
