package community

import (
	"errors"
	"net/http"

	"github.com/soomcare/soomcare/web"
)

// The community's own error codes (documented in apidoc/openapi.yaml); their
// statuses are registered in errorTable.
const (
	CodeReplyDepth      = "reply_depth"      // 400: a reply to a reply
	CodeUserBlocked     = "user_blocked"     // 403: a blocked user tried to write
	CodeAlreadyReported = "already_reported" // 409: one report per user per post
	CodeReportLimited   = "report_limited"   // 429: past the daily report limit; see Retry-After
)

// errorTable maps the package's errors to client errors.
func errorTable() web.Errors {
	return web.Errors{
		{Match: reportLimited, Code: CodeReportLimited, Status: http.StatusTooManyRequests,
			Message: "오늘은 더 신고할 수 없습니다. 잠시 후 다시 시도해 주세요."},
		{Is: ErrNotFound, Code: web.CodeNotFound, Message: "글이나 댓글을 찾을 수 없습니다."},
		{Is: ErrForbidden, Code: web.CodeForbidden, Message: "작성자만 할 수 있습니다."},
		{Is: ErrBlocked, Code: CodeUserBlocked, Status: http.StatusForbidden, Message: "이용이 제한된 계정은 글을 쓸 수 없습니다."},
		{Is: ErrUserGone, Code: web.CodeUnauthorized, Message: "사용할 수 없는 계정입니다."},
		{Is: ErrReplyDepth, Code: CodeReplyDepth, Status: http.StatusBadRequest, Message: "답글에는 답글을 달 수 없습니다."},
		{Is: ErrAlreadyReported, Code: CodeAlreadyReported, Status: http.StatusConflict, Message: "이미 신고한 글입니다."},
	}
}

// reportLimited is the Retry-After of a report past the daily limit.
func reportLimited(err error) *web.Error {
	var limited *errReportLimited
	if !errors.As(err, &limited) {
		return nil
	}
	return &web.Error{RetryAfter: limited.retryAfter}
}
