package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// slowLog is what the statement wrappers below report to: every statement's
// Family, latency and outcome go to observe (when set); statements that take
// at least threshold log at warn on logger (when set) with their Family and
// duration, never their text, arguments or the server's message (which
// quotes values).
type slowLog struct {
	threshold time.Duration
	logger    *slog.Logger
	observe   func(family string, d time.Duration, failed bool)
}

func (s slowLog) observeStatement(ctx context.Context, query string, start time.Time, err error) {
	d := time.Since(start)
	if errors.Is(err, driver.ErrSkip) {
		return
	}
	if s.observe != nil {
		s.observe(Family(query), d, err != nil)
	}
	if s.logger == nil || d < s.threshold {
		return
	}
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	s.logger.LogAttrs(ctx, slog.LevelWarn, "slow statement",
		slog.String("mysql.statement", Family(query)),
		slog.Int64("event.duration", d.Nanoseconds()),
		slog.String("event.outcome", outcome))
}

// Family names a statement without its values: the first keyword and the
// table it acts on, lower case ("select posts", "insert comments",
// "update users", "delete post_likes"); "select" alone without FROM, the
// keyword alone for anything else ("begin", "set"), "other" when there is no
// keyword. Only identifiers reach the name, so it is bounded by the schema.
func Family(query string) string {
	words := strings.Fields(query)
	if len(words) == 0 {
		return "other"
	}
	verb := strings.ToLower(words[0])
	if !isIdent(verb) {
		return "other"
	}
	after := ""
	switch verb {
	case "select", "delete":
		after = "from"
	case "insert", "replace":
		after = "into"
	case "update":
		return join(verb, firstIdent(words[1:], "low_priority", "ignore"))
	default:
		return verb
	}
	for i, w := range words[1:] {
		if strings.EqualFold(w, after) {
			return join(verb, firstIdent(words[i+2:]))
		}
	}
	if verb == "insert" || verb == "replace" { // INSERT t (…) without INTO
		return join(verb, firstIdent(words[1:], "low_priority", "delayed", "high_priority", "ignore"))
	}
	return verb
}

func join(verb, table string) string {
	if table == "" {
		return verb
	}
	return verb + " " + table
}

// firstIdent is the table named by words[0] after skipping modifiers: the
// identifier before any "(", backquotes removed, lower case; "" when it is
// not a plain identifier (a subquery, a placeholder).
func firstIdent(words []string, skip ...string) string {
	for _, w := range words {
		lw := strings.ToLower(w)
		skipped := false
		for _, s := range skip {
			if lw == s {
				skipped = true
			}
		}
		if skipped {
			continue
		}
		if i := strings.IndexAny(lw, "(,;"); i >= 0 {
			lw = lw[:i]
		}
		lw = strings.ReplaceAll(lw, "`", "")
		if lw == "" || !isIdent(lw) {
			return ""
		}
		return lw
	}
	return ""
}

func isIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '_', b == '$', b == '.':
		default:
			return false
		}
	}
	return true
}

// slowConnector wraps the driver's connector so that each connection's
// statements are timed (Options.SlowThreshold). database/sql sees the
// driver's own connection behind forwarding methods for every optional
// interface go-sql-driver implements.
type slowConnector struct {
	next driver.Connector
	log  slowLog
}

func (c slowConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.next.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &slowConn{Conn: conn, log: c.log}, nil
}

func (c slowConnector) Driver() driver.Driver { return c.next.Driver() }

type slowConn struct {
	driver.Conn
	log slowLog
}

var (
	_ driver.QueryerContext     = (*slowConn)(nil)
	_ driver.ExecerContext      = (*slowConn)(nil)
	_ driver.ConnPrepareContext = (*slowConn)(nil)
	_ driver.ConnBeginTx        = (*slowConn)(nil)
	_ driver.Pinger             = (*slowConn)(nil)
	_ driver.SessionResetter    = (*slowConn)(nil)
	_ driver.Validator          = (*slowConn)(nil)
	_ driver.NamedValueChecker  = (*slowConn)(nil)
)

func (c *slowConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := time.Now()
	rows, err := q.QueryContext(ctx, query, args)
	c.log.observeStatement(ctx, query, start, err)
	return rows, err
}

func (c *slowConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	x, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := time.Now()
	res, err := x.ExecContext(ctx, query, args)
	c.log.observeStatement(ctx, query, start, err)
	return res, err
}

func (c *slowConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &slowStmt{Stmt: st, query: query, log: c.log}, nil
}

func (c *slowConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver has no BeginTx
}

func (c *slowConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *slowConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *slowConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *slowConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// slowStmt times a prepared statement's executions (the path database/sql
// takes when the driver does not interpolate the arguments).
type slowStmt struct {
	driver.Stmt
	query string
	log   slowLog
}

var (
	_ driver.StmtQueryContext  = (*slowStmt)(nil)
	_ driver.StmtExecContext   = (*slowStmt)(nil)
	_ driver.NamedValueChecker = (*slowStmt)(nil)
	_ driver.ColumnConverter   = (*slowStmt)(nil)
)

func (s *slowStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("mysql: the driver's statement lacks QueryContext")
	}
	start := time.Now()
	rows, err := q.QueryContext(ctx, args)
	s.log.observeStatement(ctx, s.query, start, err)
	return rows, err
}

func (s *slowStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	x, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("mysql: the driver's statement lacks ExecContext")
	}
	start := time.Now()
	res, err := x.ExecContext(ctx, args)
	s.log.observeStatement(ctx, s.query, start, err)
	return res, err
}

func (s *slowStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (s *slowStmt) ColumnConverter(idx int) driver.ValueConverter {
	if c, ok := s.Stmt.(driver.ColumnConverter); ok { //nolint:staticcheck // forwarded as the driver has it
		return c.ColumnConverter(idx)
	}
	return driver.DefaultParameterConverter
}
