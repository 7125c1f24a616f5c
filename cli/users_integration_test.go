package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/web"
)

// `soomcare users grant-role` changes the role, records who did it, when,
// and the role before and after; the user's tokens naming the old role are
// refused (the next token carries the new one). An unknown e-mail is a
// failure (exit 1) naming it, a bad role or missing argument bad usage
// (exit 2), and granting the role the user has records nothing.
func TestIntegrationUsersGrantRole(t *testing.T) {
	db, dsn := testdb.New(t)
	ctx := context.Background()
	res, err := db.ExecContext(ctx, `INSERT INTO users (email, nickname, role, status) VALUES ('new.editor@example.com', '새편집자', 'user', 'active')`)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	environ := []string{"SOOMCARE_MYSQL_DSN=" + dsn, "USER=alice"}

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErr    string
		wantRole   string
		wantAudits int
	}{
		{"grant editor, e-mail in another case", []string{"New.Editor@Example.com", "editor"}, ExitOK, "role user -> editor (recorded as cli:alice)", "", "editor", 1},
		{"again: nothing changes", []string{"new.editor@example.com", "editor"}, ExitOK, "already has role editor", "", "editor", 1},
		{"--by names the operator", []string{"new.editor@example.com", "admin", "--by", "bob"}, ExitOK, "role editor -> admin (recorded as cli:bob)", "", "admin", 2},
		{"unknown e-mail", []string{"nobody@example.com", "editor"}, ExitFailure, "", `no account with e-mail "nobody@example.com"`, "admin", 2},
		{"unknown role", []string{"new.editor@example.com", "moderator"}, ExitUsage, "", `unknown role "moderator": want one of user, editor, admin`, "admin", 2},
		{"missing role", []string{"new.editor@example.com"}, ExitUsage, "", "accepts 2 arg(s)", "admin", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := run(t, environ, append([]string{"users", "grant-role"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, out, stderr, tc.wantCode, tc.wantOut, tc.wantErr)
			}
			var role string
			var audits int
			if err := db.QueryRowContext(ctx, `SELECT role, (SELECT COUNT(*) FROM user_role_changes WHERE user_id = ?) FROM users WHERE id = ?`, id, id).Scan(&role, &audits); err != nil {
				t.Fatal(err)
			}
			if role != tc.wantRole || audits != tc.wantAudits {
				t.Errorf("role %s with %d audit rows, want %s with %d", role, audits, tc.wantRole, tc.wantAudits)
			}
		})
	}

	var before, after, actor string
	if err := db.QueryRowContext(ctx, `SELECT before_role, after_role, actor FROM user_role_changes WHERE user_id = ? AND changed_at > NOW(6) - INTERVAL 1 HOUR ORDER BY id LIMIT 1`, id).
		Scan(&before, &after, &actor); err != nil {
		t.Fatal(err)
	}
	if before != "user" || after != "editor" || actor != "cli:alice" {
		t.Errorf("first audit row %s -> %s by %s, want user -> editor by cli:alice", before, after, actor)
	}
	code, out, _ := run(t, environ, "users", "role-history")
	if code != ExitOK || !strings.Contains(out, "cli:bob") || !strings.Contains(out, "new.editor@example.com  editor  admin") {
		t.Errorf("role-history: exit %d\n%s", code, out)
	}

	accounts := auth.NewAccounts(db, 0, nil, nil)
	if err := accounts.Check(ctx, web.Principal{UserID: uint64(id), Role: web.RoleUser}); !errors.Is(err, auth.ErrRoleChanged) {
		t.Errorf("a token with the old role: %v, want ErrRoleChanged", err)
	}
	if err := accounts.Check(ctx, web.Principal{UserID: uint64(id), Role: web.RoleAdmin}); err != nil {
		t.Errorf("a token with the new role: %v", err)
	}
}
