package profile

import "strings"

// closest returns the candidate nearest to word, for a "did you mean"
// suggestion, or "" when none is near enough to be a likely typo.
func closest(word string, candidates []string) string {
	best, bestDist, bestPrefix := "", -1, 0
	w := strings.ToLower(word)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d, prefix := editDistance(w, lc), commonPrefix(w, lc)
		// On a tie the longer common prefix wins: node is nodes, not mode.
		if bestDist < 0 || d < bestDist || d == bestDist && prefix > bestPrefix {
			best, bestDist, bestPrefix = c, d, prefix
		}
	}
	// Allow about one typo per three letters, at most three.
	if bestDist < 0 || bestDist > min(max(len(word)/3, 1), 3) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes.
func editDistance(a, b string) int {
	// d[i][j]: distance between a[:i] and b[:j]; three rows are enough.
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

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
