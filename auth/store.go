package auth

import (
	"errors"
	"fmt"

	"github.com/soomcare/soomcare/mysql"
)

// store is the SQL of package auth, by subject: users, SNS identities,
// role changes, e-mail and nickname upkeep (store_users.go), refresh
// tokens and OIDC nonces (store_tokens.go), and the login and sign-up
// counts (store_throttle.go). Every method takes the querier it runs on
// (the pool, or the transaction the caller opened); the service around it
// decides (checks, hashing, sealing) and draws the transaction boundaries.
// Errors are wrapped with %w; a duplicate key on a known unique key comes
// back as its sentinel (uniqueErr).
type store struct{}

var errDuplicate = errors.New("duplicate key")

// uniqueErr maps a duplicate-key error on a known unique key to its sentinel.
func uniqueErr(err error) error {
	key, ok := mysql.DuplicateKey(err)
	switch {
	case !ok:
		return err
	case key == "uk_users_email":
		return ErrEmailTaken
	case key == "uk_users_nickname", key == "uk_users_nickname_key":
		return ErrNicknameTaken
	case key == "uk_user_identities_provider_subject":
		return ErrIdentityTaken
	}
	return fmt.Errorf("%w: %v", errDuplicate, err)
}
