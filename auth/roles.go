package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// ErrNoSuchUser: no account (not deleted) has that e-mail address.
var ErrNoSuchUser = errors.New("no user with that e-mail address")

// Roles are the values of users.role, least privileged first.
func Roles() []string { return []string{web.RoleUser, web.RoleEditor, web.RoleAdmin} }

// RoleChange is one row of user_role_changes.
type RoleChange struct {
	UserID uint64
	Email  string
	Before string
	After  string
	Actor  string // "cli:<name>"
	At     time.Time
}

// GrantRole sets the role of the account with e-mail address email
// (canonicalised like sign-up's) and records who did it (actor, at most 80
// characters) and when in user_role_changes, in one transaction; a grant of
// the role the user already has changes and records nothing (Before ==
// After). The user's access tokens naming the old role stop working within
// auth.account_check_ttl (Accounts); the next token, from login or refresh,
// carries the new role.
func GrantRole(ctx context.Context, db *sql.DB, email, role, actor string, now time.Time) (RoleChange, error) {
	if !slices.Contains(Roles(), role) {
		return RoleChange{}, fmt.Errorf("auth: unknown role %q", role)
	}
	ch := RoleChange{Email: CanonicalEmail(email), After: role, Actor: actor, At: now.UTC()}
	err := mysql.Tx(ctx, db, nil, func(tx *sql.Tx) error {
		var err error
		var st store
		ch.UserID, ch.Before, err = st.LockRole(ctx, tx, ch.Email)
		if err != nil || ch.Before == role {
			return err
		}
		if err := st.SetRole(ctx, tx, ch.UserID, role); err != nil {
			return err
		}
		return st.InsertRoleChange(ctx, tx, ch)
	})
	return ch, err
}

// RoleChanges returns the latest role changes, newest first (at most limit).
func RoleChanges(ctx context.Context, db *sql.DB, limit int) ([]RoleChange, error) {
	return store{}.RoleChanges(ctx, db, limit)
}
