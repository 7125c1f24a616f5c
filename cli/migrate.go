package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/mysql"
)

func newMigrateCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back or list MySQL schema migrations",
		Long: `Manage the MySQL schema. Migrations are SQL files embedded in the binary (mysql/migrations),
applied with goose and recorded in the goose_db_version table. Run migrations from one place at a time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("migrate needs a subcommand: up, down or status (see soomcare migrate --help)")}
		},
	}
	cmd.AddCommand(newMigrateUpCmd(e), newMigrateDownCmd(e), newMigrateStatusCmd(e))
	return cmd
}

func newMigrateUpCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withMigrator(cmd, func(m *mysql.Migrator) error {
				res, err := m.Up(cmd.Context())
				for _, r := range res {
					fmt.Fprintf(e.stdout, "applied %05d %s (%s)\n", r.Version, r.Name, r.Duration.Round(1e6))
				}
				if err != nil {
					return err
				}
				if len(res) == 0 {
					fmt.Fprintln(e.stdout, "schema is up to date")
				}
				return nil
			})
		},
	}
}

func newMigrateDownCmd(e *env) *cobra.Command {
	var to int64
	down := &cobra.Command{
		Use:   "down",
		Short: "Roll back the last migration (or down to --to VERSION)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withMigrator(cmd, func(m *mysql.Migrator) error {
				if cmd.Flags().Changed("to") {
					res, err := m.DownTo(cmd.Context(), to)
					for _, r := range res {
						fmt.Fprintf(e.stdout, "rolled back %05d %s\n", r.Version, r.Name)
					}
					return err
				}
				r, err := m.Down(cmd.Context())
				if errors.Is(err, mysql.ErrNoMigrationToRollBack) {
					fmt.Fprintln(e.stdout, "nothing to roll back")
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "rolled back %05d %s\n", r.Version, r.Name)
				return nil
			})
		},
	}
	down.Flags().Int64Var(&to, "to", 0, "roll back every migration above this version (0 = all)")
	return down
}

func newMigrateStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withMigrator(cmd, func(m *mysql.Migrator) error {
				st, err := m.Status(cmd.Context())
				if err != nil {
					return err
				}
				w := newTableWriter(e.stdout)
				fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED AT")
				for _, s := range st {
					at := "pending"
					if s.Applied {
						at = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
					}
					fmt.Fprintf(w, "%s\t%s\t%s\n", strconv.FormatInt(s.Version, 10), s.Name, at)
				}
				return w.Flush()
			})
		},
	}
}

func (e *env) withMigrator(cmd *cobra.Command, f func(*mysql.Migrator) error) error {
	c, db, err := e.configAndDB(cmd.Context())
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := mysql.NewMigrator(db, e.logger(c))
	if err != nil {
		return err
	}
	if err := f(m); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
