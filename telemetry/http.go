package telemetry

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Unmatched is the route label of requests no route matched (404, 405): the
// raw path never becomes a label.
const Unmatched = "unmatched"

// HTTP holds the API's request series.
type HTTP struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	throttled *prometheus.CounterVec
}

// NewHTTP registers the request series on reg:
//
//	soomcare_http_requests_total{method, route, status_class}
//	soomcare_http_request_duration_seconds{method, route}   (histogram)
//	soomcare_http_requests_in_flight
//	soomcare_http_throttled_total{route}   (429s: search rate limit, login and sign-up throttles)
func NewHTTP(reg prometheus.Registerer) *HTTP {
	const sub = "http"
	m := &HTTP{
		requests: counterVec(sub, "requests_total",
			"HTTP requests answered, by method, Gin route template (\"unmatched\" for unknown paths) and status class.",
			"method", "route", "status_class"),
		duration: prometheus.NewHistogramVec(histogramOpts(sub, "request_duration_seconds",
			"Time from the first middleware to the handler's return, by method and route template.",
			[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}), []string{"method", "route"}),
		inFlight: gauge(sub, "requests_in_flight", "HTTP requests being served."),
		throttled: counterVec(sub, "throttled_total",
			"Requests refused with 429 by route template: the search rate limit (/v1/...search, /v1/feed/posts), the login (/v1/auth/login) and sign-up (/v1/auth/signup) throttles.",
			"route"),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.throttled)
	return m
}

// Middleware records every request; install it first so that it times the
// whole chain and sees the status a recovered panic produced.
func (m *HTTP) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = Unmatched
		}
		method := methodLabel(c.Request.Method)
		status := c.Writer.Status()
		m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(method, route, statusClass(status)).Inc()
		if status == http.StatusTooManyRequests {
			m.throttled.WithLabelValues(route).Inc()
		}
	}
}

// methodLabel keeps the label's values to the methods HTTP defines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if i := status/100 - 1; i >= 0 && i < len(classes) {
		return classes[i]
	}
	return "other"
}
