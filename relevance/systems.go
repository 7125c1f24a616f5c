package relevance

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/server"
)

// System ranks the searchable documents of an index (contents or posts) for
// a query and returns their ids, best first, at most K.
type System interface {
	Search(ctx context.Context, index, q string) ([]uint64, error)
}

// SystemFunc adapts a function to System.
type SystemFunc func(ctx context.Context, index, q string) ([]uint64, error)

func (f SystemFunc) Search(ctx context.Context, index, q string) ([]uint64, error) {
	return f(ctx, index, q)
}

// API is the search API of `soomcare serve`, in process: the real router
// (parameter validation, the query builders of searchapi, the simple-query
// retry, result decoding) over the aliases <prefix>-contents and
// <prefix>-posts. Nothing of the platform's query is re-implemented here.
type API struct {
	h http.Handler
}

// NewAPI serves searchapi over es with the aliases of prefix.
func NewAPI(es *elasticsearch.Client, prefix string, logger *slog.Logger) *API {
	return NewAPIWith(es, prefix, logger, nil)
}

// NewAPIWith is NewAPI whose suggest blends in popular past queries.
func NewAPIWith(es *elasticsearch.Client, prefix string, logger *slog.Logger, popular searchapi.Popular) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	api := searchapi.New(es, searchapi.Options{IndexPrefix: prefix, Timeout: 30 * time.Second, Logger: logger, Popular: popular})
	return &API{h: server.New(config.HTTP{MaxBodyBytes: 1 << 20}, logger, nil, api.Mount).Handler()}
}

// Search is what the app calls when the user submits q: GET
// /v1/{index}/search?q=…&size=10, relevance order.
func (a *API) Search(ctx context.Context, index, q string) ([]uint64, error) {
	var page struct {
		Hits []struct {
			ID uint64 `json:"id"`
		} `json:"hits"`
	}
	if err := a.get(ctx, "/v1/"+index+"/search", url.Values{"q": {q}, "size": {fmt.Sprint(K)}}, &page); err != nil {
		return nil, err
	}
	ids := make([]uint64, len(page.Hits))
	for i, h := range page.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// Suggest is what the app calls per keystroke: GET
// /v1/search/suggest?q=…&types=…&size=10, the texts in the order the API
// returns them.
func (a *API) Suggest(ctx context.Context, types []string, q string) ([]string, error) {
	var resp searchapi.SuggestResponse
	if err := a.get(ctx, "/v1/search/suggest", url.Values{"q": {q}, "types": {strings.Join(types, ",")}, "size": {fmt.Sprint(K)}}, &resp); err != nil {
		return nil, err
	}
	texts := make([]string, len(resp.Suggestions))
	for i, s := range resp.Suggestions {
		texts[i] = s.Text
	}
	return texts, nil
}

func (a *API) get(ctx context.Context, path string, params url.Values, out any) error {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, path+"?"+params.Encode(), nil)
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET %s?%s: %d %s", path, params.Encode(), rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// Like is the search the app had before the engine: MySQL
// `title LIKE '%q%' OR body LIKE '%q%'` over the rows the platform would
// make searchable, newest first (LIKE has no relevance to order by).
type Like struct {
	DB *sql.DB
}

func (l Like) Search(ctx context.Context, index, q string) ([]uint64, error) {
	var query string
	switch index {
	case mappings.Contents:
		query = `SELECT id FROM contents
			WHERE status = 'published' AND deleted_at IS NULL AND (title LIKE ? OR body LIKE ?)
			ORDER BY published_at DESC, id DESC LIMIT ?`
	case mappings.Posts:
		query = `SELECT p.id FROM posts p JOIN users u ON u.id = p.user_id
			WHERE p.status = 'visible' AND p.deleted_at IS NULL AND u.status = 'active' AND u.deleted_at IS NULL
			AND (p.title LIKE ? OR p.body LIKE ?)
			ORDER BY p.created_at DESC, p.id DESC LIMIT ?`
	default:
		return nil, fmt.Errorf("like: unknown index %q", index)
	}
	pattern := "%" + likeEscaper.Replace(q) + "%"
	ids, err := mysql.QueryIDs(ctx, l.DB, query, pattern, pattern, K)
	if err != nil {
		return nil, fmt.Errorf("like %s: %w", index, err)
	}
	return ids, nil
}

// likeEscaper makes q a literal inside a LIKE pattern (default escape \).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
