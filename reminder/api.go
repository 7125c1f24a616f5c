package reminder

import (
	"database/sql"
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/web"
)

// API serves device registration (PUT/DELETE /v1/me/devices) and notices to
// every user (POST /v1/admin/notices, admin role, one FCM topic message).
type API struct {
	db      *sql.DB
	devices DeviceStore
	sender  Sender
	auth    gin.HandlerFunc
	kit     web.Kit
}

// NewAPI returns the API; sender may be nil (notices answer 503).
func NewAPI(db *sql.DB, sender Sender, auth gin.HandlerFunc, logger *slog.Logger) *API {
	return &API{db: db, sender: sender, auth: auth, kit: care.Kit(logger)}
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	h := a.kit.Handle
	me := care.Group(e, a.auth)
	me.PUT("/devices", h(a.register))
	me.DELETE("/devices/:token", h(a.unregister))
	var admin []gin.HandlerFunc
	if a.auth != nil {
		admin = append(admin, a.auth)
	}
	admin = append(admin, web.RequireRole(web.RoleAdmin))
	e.Group("/v1/admin", admin...).POST("/notices", h(a.notice))
}

// Device is a registered FCM token.
type Device struct {
	Token    string `json:"token"`
	Platform string `json:"platform"`
}

func validToken(s string) bool {
	if len(s) < 16 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_:.", r)) {
			return false
		}
	}
	return true
}

// register stores the caller's token; a token registered by another user
// before (same phone, new login) moves to the caller.
func (a *API) register(c *gin.Context) (web.Answer, error) {
	var in struct {
		Token    *string `json:"token"`
		Platform *string `json:"platform"`
	}
	if err := care.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	var v care.Checker
	if web.Required(&v.Fields, "token", in.Token) && !validToken(*in.Token) {
		v.Add("token", web.FieldInvalid, "token 은 FCM 등록 토큰이어야 합니다.")
	}
	if web.Required(&v.Fields, "platform", in.Platform) {
		v.OneOf("platform", *in.Platform, "android", "ios", "web")
	}
	if err := v.Err(); err != nil {
		return web.Answer{}, err
	}
	d := Device{Token: *in.Token, Platform: *in.Platform}
	if err := a.devices.Register(c.Request.Context(), a.db, care.UserID(c), d); err != nil {
		return web.Answer{}, err
	}
	return web.OK(d), nil
}

func (a *API) unregister(c *gin.Context) (web.Answer, error) {
	if err := a.devices.Remove(c.Request.Context(), a.db, care.UserID(c), c.Param("token")); err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

// notice sends one message to the notices topic.
func (a *API) notice(c *gin.Context) (web.Answer, error) {
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		Link  string  `json:"link"`
	}
	if err := care.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	var v care.Checker
	if web.Required(&v.Fields, "title", in.Title) {
		v.MaxLen("title", *in.Title, 100)
	}
	if web.Required(&v.Fields, "body", in.Body) {
		v.MaxLen("body", *in.Body, 1000)
	}
	v.MaxLen("link", in.Link, 500)
	if err := v.Err(); err != nil {
		return web.Answer{}, err
	}
	if a.sender == nil {
		return web.Answer{}, web.Unavailable("푸시 발송이 설정되지 않았습니다.", nil)
	}
	data := map[string]string{"type": "notice"}
	if in.Link != "" {
		data["link"] = in.Link
	}
	if err := a.sender.Send(c.Request.Context(), Message{Topic: NoticeTopic, Title: *in.Title, Body: *in.Body, Data: data}); err != nil {
		return web.Answer{}, web.Unavailable("알림을 보내지 못했습니다. 잠시 후 다시 시도해 주세요.", err)
	}
	return web.Accepted(gin.H{"topic": NoticeTopic}), nil
}
