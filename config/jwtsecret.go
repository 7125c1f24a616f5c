package config

import (
	"fmt"
	"math"
	"strings"
)

// MinJWTSecretBits is the least estimated entropy accepted in
// auth.jwt_secret (see jwtSecretBits).
const MinJWTSecretBits = 128

// publicJWTSecrets are secrets that were ever written in this repository or
// its examples (run-local.sh and the contract test once set fixed ones):
// anyone can read them, so anyone could sign tokens for an instance using
// one. The binary cannot read the repository at run time, so they are
// listed here; add any secret that ever gets committed.
func publicJWTSecrets() []string {
	return []string{
		"local-development-secret-change-me-0123456789",
		"contract-test-secret-0123456789abcdef",
	}
}

// placeholderWords mark a secret someone meant to replace.
func placeholderWords() []string {
	return []string{"change-me", "changeme", "change_me", "replace-me", "replaceme", "placeholder", "your-256-bit-secret"}
}

// jwtSecretProblem says what is wrong with a non-empty auth.jwt_secret, or
// "" when it is acceptable: at least MinJWTSecretLen bytes, not a secret
// that is public (publicJWTSecrets, a placeholder) and at least
// MinJWTSecretBits of estimated entropy.
func jwtSecretProblem(s string) string {
	const how = "; generate one with `openssl rand -base64 48` and pass it as SOOMCARE_AUTH_JWT_SECRET"
	if len(s) < MinJWTSecretLen {
		return fmt.Sprintf("must be at least %d bytes (got %d)%s", MinJWTSecretLen, len(s), how)
	}
	for _, p := range publicJWTSecrets() {
		if strings.TrimSpace(s) == p {
			return "is a secret committed to the repository, so anyone can sign tokens with it" + how
		}
	}
	lower := strings.ToLower(s)
	for _, w := range placeholderWords() {
		if strings.Contains(lower, w) {
			return fmt.Sprintf("looks like a placeholder (contains %q)%s", w, how)
		}
	}
	if bits := jwtSecretBits(s); bits < MinJWTSecretBits {
		return fmt.Sprintf("is too predictable: about %.0f bits of entropy, at least %d needed (too few distinct characters or a repeated pattern)%s",
			bits, MinJWTSecretBits, how)
	}
	return ""
}

// jwtSecretBits estimates a secret's entropy: the Shannon entropy of its
// characters times the length of its shortest repeating unit ("abcabcabc"
// counts as "abc"). It overestimates dictionary words and underestimates
// nothing random: 48 random bytes in base64 score about 350 bits, 32
// random hex characters about 115.
func jwtSecretBits(s string) float64 {
	b := []byte(s)
	unit := period(b)
	counts := map[byte]int{}
	for _, c := range b[:unit] {
		counts[c]++
	}
	var h float64
	for _, n := range counts {
		p := float64(n) / float64(unit)
		h -= p * math.Log2(p)
	}
	return h * float64(unit)
}

// period returns the length of the shortest unit that b repeats (a prefix
// of it when the last repetition is cut short), or len(b).
func period(b []byte) int {
	for p := 1; p <= len(b)/2; p++ {
		repeats := true
		for i := p; i < len(b); i++ {
			if b[i] != b[i-p] {
				repeats = false
				break
			}
		}
		if repeats {
			return p
		}
	}
	return len(b)
}
