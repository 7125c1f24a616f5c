package cli

import (
	"fmt"
	"strconv"
	"strings"

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
			fmt.Fprint(e.stdout, emailReportText(rep, apply))
			return err
		},
	}
	cmd.Flags().BoolVar(&apply, "apply", false, "rewrite the rows that do not collide (default: report only)")
	return cmd
}

// emailReportText is the report of `soomcare emails`: one line per finding,
// user ids only, and what to do next.
func emailReportText(rep auth.EmailReport, apply bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "checked %d e-mails\n", rep.Checked)
	switch {
	case apply && len(rep.Rewritten) > 0:
		fmt.Fprintf(&b, "rewritten into canonical form: %d (user ids %s)\n", len(rep.Rewritten), idList(rep.Rewritten))
	case apply:
		b.WriteString("rewritten into canonical form: none needed\n")
	case len(rep.Pending) > 0:
		fmt.Fprintf(&b, "not in canonical form: %d (user ids %s); run with --apply to rewrite them\n", len(rep.Pending), idList(rep.Pending))
	default:
		b.WriteString("not in canonical form: none\n")
	}
	if len(rep.Collisions) == 0 {
		b.WriteString("collisions: none\n")
		return b.String()
	}
	fmt.Fprintf(&b, "collisions: %d groups of accounts share an address in canonical form; none of them was changed:\n", len(rep.Collisions))
	for _, g := range rep.Collisions {
		fmt.Fprintf(&b, "  user ids %s\n", idList(g))
	}
	b.WriteString("decide which account of each group keeps the address and change the others' e-mail, then run again\n")
	return b.String()
}

// idList is "3, 17, 42".
func idList(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(s, ", ")
}
