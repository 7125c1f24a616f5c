package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/canal"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	mysqldrv "github.com/go-sql-driver/mysql"
)

// canalConfig is canal's configuration for the source dsn: the watched
// tables and the heartbeat table, no mysqldump, reconnecting forever.
func (w *Worker) canalConfig(dsn *mysqldrv.Config, flavor string) *canal.Config {
	cc := canal.NewDefaultConfig()
	cc.Addr = dsn.Addr
	cc.User = dsn.User
	cc.Password = dsn.Passwd
	cc.Charset = "utf8mb4"
	cc.Flavor = flavor
	cc.ServerID = w.cfg.ServerID
	cc.Dump.ExecutionPath = "" // no mysqldump: snapshots are ours
	cc.ParseTime = true
	cc.TimestampStringLocation = time.UTC
	cc.HeartbeatPeriod = 5 * time.Second // keeps an idle connection alive and detects a dead one
	cc.ReadTimeout = 30 * time.Second
	cc.MaxReconnectAttempts = 0 // infinite: MySQL restarts are waited out
	cc.Logger = slog.New(newWatchedLog(w.logger.Handler(), dsn.DBName, w.tableKeys())).With("component", "canal")
	tables := append(slices.Clone(w.cfg.Tables), heartbeatTable)
	for i, t := range tables {
		tables[i] = "^" + regexpQuote(dsn.DBName) + `\.` + regexpQuote(t) + "$"
	}
	cc.IncludeTableRegex = tables
	return cc
}

// stream runs canal from st.Position until ctx ends or the stream fails.
func (w *Worker) stream(ctx context.Context, store *Store, st State) error {
	dsn, err := mysqldrv.ParseDSN(w.cfg.SourceDSN)
	if err != nil {
		return fmt.Errorf("cdc source dsn: %w", err)
	}
	flavor, err := detectFlavor(ctx, w.source)
	if err != nil {
		return err
	}
	cc := w.canalConfig(dsn, flavor)
	open, err := store.OpenDeadLetterDocs(ctx)
	if err != nil {
		return err
	}
	for _, name := range w.indices() { // every series from 0: the alert sees the first dead letter as an increase
		for _, source := range []string{DeadLetterRow, DeadLetterEngine} {
			w.metrics.DeadLetters.WithLabelValues(w.life.Alias(name), source)
		}
	}
	c, err := canal.NewCanal(cc)
	if err != nil {
		return classify(fmt.Errorf("start canal: %w", err))
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	items := make(chan item, 1024)
	h := &handler{ctx: sctx, out: items, db: w.source, schema: dsn.DBName, file: st.Position.File,
		tables: w.tableKeys(), logger: w.logger, metrics: w.metrics}
	c.SetEventHandler(h)
	streamErr := make(chan error, 1)
	go func() {
		streamErr <- classify(c.RunFrom(gomysql.Position{Name: st.Position.File, Pos: st.Position.Pos}))
	}()
	w.logger.Info("streaming", "from", st.Position, "flavor", flavor, "tables", w.cfg.Tables)

	a := newApplier(applier{
		reader: w.src, fanout: w.src, writer: w.writer, store: store, aliasOf: w.life.Alias, open: docSet(open),
		logger: w.logger, metrics: w.metrics, batch: w.cfg.BatchSize, interval: w.cfg.FlushInterval,
		onAck: w.cfg.OnAck, lag: w.lag,
	}, st)
	// Closing canal on shutdown stops the handler; the applier drains what is queued.
	go func() {
		<-sctx.Done()
		c.Close()
	}()
	return a.run(ctx, items, streamErr)
}

func docSet(docs []DocKey) map[DocKey]bool {
	m := make(map[DocKey]bool, len(docs))
	for _, d := range docs {
		m[d] = true
	}
	return m
}

func (w *Worker) tableKeys() map[string]keyColumn {
	known := watchedTables()
	out := map[string]keyColumn{}
	for _, t := range w.cfg.Tables {
		out[t] = known[t]
	}
	return out
}

// classify maps server errors to the worker's fatal errors: MySQL's error
// 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested binlog file or
// position is gone) is a purged binlog. Only the server's error number
// decides, never the message text (a port like 51236 is not a purge).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var my *gomysql.MyError
	if errors.As(err, &my) && my.Code == gomysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		return fmt.Errorf("%w: %v", ErrBinlogPurged, err)
	}
	return err
}

func detectFlavor(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "", fmt.Errorf("detect MySQL flavor: %w", err)
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		return gomysql.MariaDBFlavor, nil
	}
	return gomysql.MySQLFlavor, nil
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
