package processor

// Suggest returns the candidate closest to word, for a "did you mean"
// line: one a short edit away (a typo), or one word starts with, or ""
// when nothing is close enough to be worth saying.
func Suggest(word string, candidates []string) string {
	best, bestDist := "", 3
	if len(word) <= 3 {
		bestDist = 2
	}
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" || len(word) < 2 {
		return best
	}
	for _, c := range candidates {
		if len(c) > len(word) && c[:len(word)] == word {
			return c
		}
	}
	return ""
}

// editDistance is the Levenshtein distance, with a transposition of two
// neighbours counting as one edit (optimal string alignment).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
