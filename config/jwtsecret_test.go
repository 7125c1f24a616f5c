package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestJWTSecretRefusesPublicAndPredictable: `serve` refuses the secret
// run-local.sh used to commit (issue #26: anyone could mint an admin token
// for an instance started that way), placeholders and low-entropy strings,
// naming auth.jwt_secret and how to generate one; random secrets pass.
func TestJWTSecretRefusesPublicAndPredictable(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, secret, want string
	}{
		{"the secret run-local.sh committed", "local-development-secret-change-me-0123456789", "committed to the repository"},
		{"the secret contract.sh committed", "contract-test-secret-0123456789abcdef", "committed to the repository"},
		{"a placeholder", "please-CHANGEME-before-production-2026-xyz", "placeholder"},
		{"one character repeated", strings.Repeat("a", 64), "too predictable"},
		{"a repeated pattern", strings.Repeat("Ab3$", 16), "too predictable"},
		{"a repeated hex run", strings.Repeat("0123456789abcdef", 4), "too predictable"},
		{"two characters", strings.Repeat("ab", 20) + "ba" + strings.Repeat("ab", 20), "too predictable"},
		{"too short", "short", "at least 32 bytes"},
		{"openssl rand -base64 48", base64.StdEncoding.EncodeToString(random(48)), ""},
		{"64 random hex characters", hex.EncodeToString(random(32)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", []string{"SOOMCARE_AUTH_JWT_SECRET=" + tt.secret})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("a random secret must pass: %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != "auth.jwt_secret" {
				t.Fatalf("err = %v, want an error naming auth.jwt_secret", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "openssl rand -base64 48") {
				t.Errorf("err = %v, want %q and how to generate one", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error must not print the secret: %v", err)
			}
		})
	}
}
