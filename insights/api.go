package insights

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/web"
)

// Report limits.
const (
	DefaultTop  = 20 // queries per list
	MaxTop      = 100
	DefaultDays = 7  // the range when from is absent
	MaxDays     = 92 // the longest range, in days
)

// API serves the editors' report.
//
//	GET /v1/editor/search-insights?from=&to=&size=   (editor, admin)
type API struct {
	reader *Reader
	kit    web.Kit
	now    func() time.Time
}

// NewAPI returns the report API over r; now is the clock of the default
// range (nil: time.Now).
func NewAPI(r *Reader, logger *slog.Logger, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{reader: r, kit: web.NewKit(logger, errorTable()), now: now}
}

// Mount adds the route; auth.Middleware must run before it.
func (a *API) Mount(e *gin.Engine) {
	e.GET("/v1/editor/search-insights", web.RequireRole(web.RoleEditor, web.RoleAdmin), a.kit.Handle(a.report))
}

// RangeRule is how from and to read (the API and `soomcare insights`): a
// date (a whole day in Korea, to inclusive) or an RFC 3339 instant; to
// defaults to now, from to DefaultDays before to; at most MaxDays.
func RangeRule(now func() time.Time) web.RangeRule {
	return web.RangeRule{Zone: Zone, Instants: true, Until: now, DefaultDays: DefaultDays, MaxDays: MaxDays,
		Earliest: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Latest: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (a *API) report(c *gin.Context) (web.Answer, error) {
	var f web.Fields
	q := web.StrictQuery(&f, c.Request.URL.RawQuery, "from", "to", "size")
	r := RangeRule(a.now).Parse(&f, q.Get("from"), q.Get("to"))
	top := web.PageSize(&f, "size", q.Get("size"), DefaultTop, MaxTop)
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	rep, err := a.reader.Report(c.Request.Context(), r.From, r.To, top)
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(rep), nil
}

// errorTable turns an engine that cannot answer into 503; anything else is
// ours (500). The engine's message is logged, never sent.
func errorTable() web.Errors {
	return web.Errors{{Is: engine.ErrUnavailable, Code: web.CodeUnavailable,
		Message: "검색 통계 서버가 응답하지 않습니다. 잠시 후 다시 시도해 주세요."}}
}
