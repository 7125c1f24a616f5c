package community

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/soomcare/soomcare/web/webtest"
)

// The community's errors keep their codes and statuses on the wire now that
// its own codes live here and register their statuses in errorTable.
func TestErrorTable(t *testing.T) {
	webtest.CheckTable(t, errorTable(), []webtest.Mapped{
		{Err: &errReportLimited{retryAfter: time.Minute}, Status: http.StatusTooManyRequests, Code: "report_limited", RetryAfter: time.Minute},
		{Err: fmt.Errorf("x: %w", ErrNotFound), Status: http.StatusNotFound, Code: "not_found"},
		{Err: ErrForbidden, Status: http.StatusForbidden, Code: "forbidden"},
		{Err: ErrBlocked, Status: http.StatusForbidden, Code: "user_blocked"},
		{Err: ErrUserGone, Status: http.StatusUnauthorized, Code: "unauthorized"},
		{Err: ErrReplyDepth, Status: http.StatusBadRequest, Code: "reply_depth"},
		{Err: ErrAlreadyReported, Status: http.StatusConflict, Code: "already_reported"},
	})
}
