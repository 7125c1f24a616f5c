package cli

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/auth"
)

func newUsersCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users grant-role|role-history",
		Short: "Give an account the editor or admin role (audited)",
		Long: `Manage accounts' roles in MySQL (users.role: ` + strings.Join(auth.Roles(), ", ") + `).

There is no API for roles: an operator grants them here. Every change is recorded in
user_role_changes with who ran it (--by, default $USER), when, and the role before and after
(users role-history).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("users needs a subcommand: grant-role or role-history")}
		},
	}
	cmd.AddCommand(newGrantRoleCmd(e), newRoleHistoryCmd(e))
	return cmd
}

func newGrantRoleCmd(e *env) *cobra.Command {
	var by string
	c := &cobra.Command{
		Use:   "grant-role EMAIL " + strings.Join(auth.Roles(), "|"),
		Short: "Set the role of the account with e-mail EMAIL",
		Long: `Set the role of the account that signed up with EMAIL: editor (writes articles, edits the search
dictionary, synonyms and suggestion blocks, reads search insights), admin (an editor's rights plus
community moderation and the other admin endpoints), or user (takes a role away). The change and
who made it are recorded (users role-history).

It takes effect on the user's next token: access tokens naming the old role are refused within
auth.account_check_ttl (401, error_description "expired"), and the app's refresh (or a new
login) returns a token with the new role. Granting the role the user already has changes nothing.

Exit codes: 0 done, 1 no account with that e-mail (or MySQL down), 2 bad role or arguments.

Example:
  bin/soomcare users grant-role editor@example.com editor --by alice`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			role := args[1]
			if !slices.Contains(auth.Roles(), role) {
				return usageError{fmt.Errorf("unknown role %q: want one of %s", role, strings.Join(auth.Roles(), ", "))}
			}
			a, err := e.operator(by)
			if err != nil {
				return err
			}
			return e.withMySQL(cmd.Context(), func(db *sql.DB) error {
				ch, err := auth.GrantRole(cmd.Context(), db, args[0], role, a.String(), time.Now())
				if errors.Is(err, auth.ErrNoSuchUser) {
					return fmt.Errorf("no account with e-mail %q (sign up first; deleted accounts cannot be granted a role)", args[0])
				}
				if err != nil {
					return err
				}
				return e.printRoleChange(ch)
			})
		},
	}
	c.Flags().StringVar(&by, "by", "", "who makes the change, recorded as cli:<name> (default: $USER)")
	return c
}

func newRoleHistoryCmd(e *env) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "role-history",
		Short: "Print the latest role changes (when, who, account, before and after)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usageError{fmt.Errorf("--limit must be at least 1 (got %d)", limit)}
			}
			return e.withMySQL(cmd.Context(), func(db *sql.DB) error {
				changes, err := auth.RoleChanges(cmd.Context(), db, limit)
				if err != nil {
					return err
				}
				w := newTableWriter(e.stdout)
				fmt.Fprintln(w, "WHEN\tWHO\tUSER ID\tEMAIL\tBEFORE\tAFTER")
				for _, c := range changes {
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", c.At.UTC().Format("2006-01-02 15:04:05Z"), c.Actor, c.UserID, c.Email, c.Before, c.After)
				}
				return w.Flush()
			})
		},
	}
	c.Flags().IntVar(&limit, "limit", 50, "changes to print, newest first")
	return c
}

// printRoleChange reports a grant.
func (e *env) printRoleChange(ch auth.RoleChange) error {
	if ch.Before == ch.After {
		_, err := fmt.Fprintf(e.stdout, "user %d (%s) already has role %s: nothing changed\n", ch.UserID, ch.Email, ch.After)
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "user %d (%s): role %s -> %s (recorded as %s)\nIt applies from the user's next token (login or refresh).\n",
		ch.UserID, ch.Email, ch.Before, ch.After, ch.Actor)
	return err
}
