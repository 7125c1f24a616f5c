package insights

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// MinClientSecretLen is the shortest insights.client_hash_secret accepted.
const MinClientSecretLen = 32

// ClientHasher turns the client of a search (searchapi.Record.Client:
// "user:<id>" signed in, "ip:<address>" otherwise) into the value stored
// with the record, so popular queries can be counted by distinct clients
// without keeping who they are. The hash is keyed with the day's key,
// HMAC-SHA256(secret, "soomcare insights client " + date in Korea), so the
// same client has one value a day and an unrelated one the next: records of
// different days cannot be linked, and neither the id, the address nor any
// key is ever stored.
type ClientHasher struct {
	secret []byte
}

// NewClientHasher returns a hasher over secret (insights.client_hash_secret);
// an empty secret gets a random one for this process only (counts across
// serve replicas then see one client once per replica).
func NewClientHasher(secret []byte) *ClientHasher {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails (crypto/rand panics instead)
	}
	return &ClientHasher{secret: secret}
}

// Hash is client's value for the day of at (in Korea): 22 base64url
// characters (128 bits of HMAC-SHA256), "" for no client.
func (h *ClientHasher) Hash(client string, at time.Time) string {
	if client == "" {
		return ""
	}
	day := hmac.New(sha256.New, h.secret)
	day.Write([]byte("soomcare insights client " + at.In(Zone).Format(time.DateOnly)))
	m := hmac.New(sha256.New, day.Sum(nil))
	m.Write([]byte(client))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
