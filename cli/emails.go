package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/auth"
)

// newEmailsCmd rewrites users.email values written before canonical e-mails
// (auth.CanonicalEmail) and lists collisions; see migration 00037.
func newEmailsCmd(e *env) *cobra.Command {
	var apply bool
	cmd := &cobra.Command{
		Use:   "emails [--apply]",
		Short: "Find (and with --apply rewrite) users' e-mails not in canonical form; list collisions",
		Long: `Users' e-mails are stored in canonical form (trimmed; local part lower-cased and NFC; domain in IDNA
ASCII form) and compared byte for byte (migration 00037). Rows written before may not be in that form and
then cannot sign in with a password. Run after ` + "`migrate up`" + `: without --apply it only reports; with it, each
such row is rewritten, unless its canonical form is shared with another row. Colliding rows are never merged
or changed: their ids are listed and the command exits 1, so an operator decides which account keeps the
address. Addresses are never printed, only user ids.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, db, err := e.configAndDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := auth.CanonicalizeEmails(cmd.Context(), db, apply)
			fmt.Fprintf(e.stdout, "checked %d e-mails; rewritten %d %v; would rewrite %d %v; colliding groups %d %v\n",
				rep.Checked, len(rep.Rewritten), rep.Rewritten, len(rep.Pending), rep.Pending, len(rep.Collisions), rep.Collisions)
			return err
		},
	}
	cmd.Flags().BoolVar(&apply, "apply", false, "rewrite the rows that do not collide (default: report only)")
	return cmd
}
