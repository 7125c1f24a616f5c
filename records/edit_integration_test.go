package records_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/web"
)

// editKinds are the record kinds with a body that creates one and another
// that replaces it.
var editKinds = []struct {
	path           string
	create, update map[string]any
	// changed checks the replaced record (a JSON object) shows update.
	changed func(m map[string]any) bool
}{
	{"symptoms",
		map[string]any{"recorded_at": "2024-03-14T08:00:00+09:00", "severity": 2, "night_waking": true, "triggers": []string{"감기"}, "memo": "기침"},
		map[string]any{"recorded_at": "2024-03-14T09:30:00+09:00", "severity": 1},
		func(m map[string]any) bool {
			return m["severity"] == 1.0 && m["night_waking"] == false && len(m["triggers"].([]any)) == 0 && m["memo"] == "" &&
				m["recorded_at"] == "2024-03-14T00:30:00Z"
		}},
	{"peak-flows",
		map[string]any{"recorded_at": "2024-03-14T07:00:00+09:00", "value_lpm": 420, "slot": "morning"},
		map[string]any{"recorded_at": "2024-03-14T21:00:00+09:00", "value_lpm": 240, "slot": "evening"},
		func(m map[string]any) bool {
			return m["value_lpm"] == 240.0 && m["slot"] == "evening" && m["zone"] == "red" && m["percent_of_best"] == 48.0
		}},
	{"act-results",
		map[string]any{"recorded_at": "2024-03-14T09:00:00+09:00", "answers": []int{4, 4, 4, 4, 4}},
		map[string]any{"recorded_at": "2024-03-14T09:00:00+09:00", "answers": []int{2, 3, 3, 3, 3}},
		func(m map[string]any) bool { return m["total"] == 14.0 && m["control"] == records.ACTVeryPoorly }},
	{"health-events",
		map[string]any{"kind": "oral_steroid", "start_date": "2024-03-10", "end_date": "2024-03-14", "memo": "프레드니솔론"},
		map[string]any{"kind": "admission", "start_date": "2024-03-11"},
		func(m map[string]any) bool {
			return m["kind"] == "admission" && m["start_date"] == "2024-03-11" && m["end_date"] == nil && m["memo"] == ""
		}},
}

func setupEdit(t *testing.T) (*caretest.Env, *sql.DB, uint64, uint64) {
	t.Helper()
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	api := records.New(db, records.Options{Auth: caretest.Auth(iss), Now: func() time.Time { return now }})
	env := caretest.New(t, iss, api.Mount)
	return env, db, caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")
}

func version(t *testing.T, db *sql.DB, u uint64) uint64 {
	t.Helper()
	v, err := care.Version(context.Background(), db, u)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEditRoundTrip(t *testing.T) {
	env, db, a, _ := setupEdit(t)
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 500}), 200, "")
	const month = "from=2024-03-01&to=2024-03-31"
	for _, k := range editKinds {
		t.Run(k.path, func(t *testing.T) {
			r := env.Do(t, a, "POST", "/v1/me/"+k.path, k.create)
			caretest.Expect(t, r, 201, "")
			id := r.Map(t)["id"]
			path := fmt.Sprintf("/v1/me/%s/%v", k.path, id)
			v := version(t, db, a)

			r = env.Do(t, a, "PUT", path, k.update)
			caretest.Expect(t, r, 200, "")
			put := r.Map(t)
			if put["id"] != id || !k.changed(put) {
				t.Fatalf("PUT answered %s", r.Body)
			}
			got := env.Do(t, a, "GET", path, nil)
			caretest.Expect(t, got, 200, "")
			if string(got.Body) != string(r.Body) {
				t.Errorf("GET after PUT:\n%s\nPUT answered\n%s", got.Body, r.Body)
			}
			if version(t, db, a) <= v {
				t.Error("PUT did not bump the records version")
			}
			// The same body again is a no-op that still answers the record.
			caretest.Expect(t, env.Do(t, a, "PUT", path, k.update), 200, "")
		})
	}

	// An edited reading keeps the personal best of its first recording:
	// 240 of 500 is 48 % (red), not 240 of the new best 300 (80 %, green).
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 300}), 200, "")
	r := env.Do(t, a, "POST", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T07:00:00+09:00", "value_lpm": 270, "slot": "morning"})
	caretest.Expect(t, r, 201, "")
	if m := r.Map(t); m["personal_best_lpm"] != 300.0 || m["zone"] != "green" {
		t.Fatalf("new reading %s", r.Body)
	}
	list := env.Do(t, a, "GET", "/v1/me/peak-flows?from=2024-03-14&to=2024-03-14", nil)
	first := list.Map(t)["items"].([]any)[0].(map[string]any)
	r = env.Do(t, a, "PUT", fmt.Sprintf("/v1/me/peak-flows/%v", first["id"]), map[string]any{"recorded_at": "2024-03-14T21:00:00+09:00", "value_lpm": 450, "slot": "evening"})
	caretest.Expect(t, r, 200, "")
	if m := r.Map(t); m["personal_best_lpm"] != 500.0 || m["percent_of_best"] != 90.0 || m["zone"] != "green" {
		t.Errorf("edited reading %s, want best 500, 90 %%, green", r.Body)
	}
}

func TestEditOwnershipAndInvalidInput(t *testing.T) {
	env, db, a, b := setupEdit(t)
	ids := map[string]string{}
	for _, k := range editKinds {
		r := env.Do(t, a, "POST", "/v1/me/"+k.path, k.create)
		caretest.Expect(t, r, 201, "")
		ids[k.path] = strconv.FormatFloat(r.Map(t)["id"].(float64), 'f', 0, 64)
	}
	tests := []struct {
		name   string
		user   uint64
		path   string // kind, or kind/id when id is not the record's
		body   any
		status int
		code   string
		field  string
	}{
		{"other user's symptom", b, "symptoms", editKinds[0].update, 404, "not_found", ""},
		{"other user's peak flow", b, "peak-flows", editKinds[1].update, 404, "not_found", ""},
		{"other user's ACT", b, "act-results", editKinds[2].update, 404, "not_found", ""},
		{"other user's event", b, "health-events", editKinds[3].update, 404, "not_found", ""},
		{"anonymous", 0, "symptoms", editKinds[0].update, 401, "unauthorized", ""},
		{"no such id", a, "symptoms/999999", editKinds[0].update, 404, "not_found", ""},
		{"malformed id", a, "symptoms/abc", editKinds[0].update, 404, "not_found", ""},
		{"severity 4", a, "symptoms", map[string]any{"recorded_at": "2024-03-14T09:00:00Z", "severity": 4}, 400, "out_of_range", "severity"},
		{"missing recorded_at", a, "symptoms", map[string]any{"severity": 1}, 400, "validation_failed", "recorded_at"},
		{"future", a, "symptoms", map[string]any{"recorded_at": "2030-01-01T00:00:00Z", "severity": 1}, 400, "out_of_range", "recorded_at"},
		{"unknown field", a, "symptoms", map[string]any{"recorded_at": "2024-03-14T09:00:00Z", "severity": 1, "user_id": b}, 400, "validation_failed", "user_id"},
		{"not json", a, "symptoms", `{"severity":`, 400, "bad_request", "body"},
		{"negative PEF", a, "peak-flows", map[string]any{"recorded_at": "2024-03-14T09:00:00Z", "value_lpm": -1, "slot": "morning"}, 400, "out_of_range", "value_lpm"},
		{"PEF slot", a, "peak-flows", map[string]any{"recorded_at": "2024-03-14T09:00:00Z", "value_lpm": 300, "slot": "noon"}, 400, "validation_failed", "slot"},
		{"ACT answer 6", a, "act-results", map[string]any{"recorded_at": "2024-03-14T09:00:00Z", "answers": []int{4, 4, 6, 4, 4}}, 400, "out_of_range", "answers[2]"},
		{"ACT four answers", a, "act-results", map[string]any{"recorded_at": "2024-03-14T09:00:00Z", "answers": []int{4, 4, 4, 4}}, 400, "validation_failed", "answers"},
		{"event end before start", a, "health-events", map[string]any{"kind": "admission", "start_date": "2024-03-10", "end_date": "2024-03-01"}, 400, "out_of_range", "end_date"},
		{"event bad date", a, "health-events", map[string]any{"kind": "admission", "start_date": "2024-02-30"}, 400, "invalid_date", "start_date"},
		// Another user's record with an invalid body: 400, which says nothing about the record.
		{"other user's, invalid", b, "symptoms", map[string]any{"severity": 9}, 400, "validation_failed", ""},
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for path, id := range ids {
			r := env.Do(t, a, "GET", "/v1/me/"+path+"/"+id, nil)
			caretest.Expect(t, r, 200, "")
			out[path] = string(r.Body)
		}
		return out
	}
	before, v := snapshot(), version(t, db, a)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/me/" + tt.path
			if id, ok := ids[tt.path]; ok {
				path += "/" + id
			}
			r := env.Do(t, tt.user, "PUT", path, tt.body)
			caretest.Expect(t, r, tt.status, tt.code)
			if tt.field != "" {
				var p web.Error
				r.JSON(t, &p)
				if len(p.Fields) == 0 || p.Fields[0].Field != tt.field {
					t.Errorf("fields = %+v, want %s first", p.Fields, tt.field)
				}
			}
		})
	}
	after := snapshot()
	for path := range before {
		if before[path] != after[path] {
			t.Errorf("%s changed by refused requests:\n%s\n%s", path, before[path], after[path])
		}
	}
	if got := version(t, db, a); got != v {
		t.Errorf("refused requests moved A's records version %d → %d", v, got)
	}
	if got := version(t, db, b); got != 0 {
		t.Errorf("B's records version is %d after only refused writes", got)
	}
}

// pages fetches every page of the list of kind (query: its range) of size
// limit (the first page asks with size, the later ones with its deprecated
// alias limit) and returns the ids in order; between runs after each page but the
// last.
func pages(t *testing.T, env *caretest.Env, u uint64, kind, query string, limit int, between func(page int)) []uint64 {
	t.Helper()
	var ids []uint64
	url := fmt.Sprintf("/v1/me/%s?%s&size=%d", kind, query, limit)
	for n := 0; ; n++ {
		r := env.Do(t, u, "GET", url, nil)
		caretest.Expect(t, r, 200, "")
		var page struct {
			Items []struct {
				ID uint64 `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		if len(page.Items) > limit {
			t.Fatalf("page of %d items with limit %d", len(page.Items), limit)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		if len(page.Items) != limit {
			t.Fatalf("a page of %d before the last, limit %d", len(page.Items), limit)
		}
		if n > 1000 {
			t.Fatal("endless pages")
		}
		if between != nil {
			between(n)
		}
		url = fmt.Sprintf("/v1/me/%s?limit=%d&cursor=%s", kind, limit, *page.NextCursor)
	}
}

func TestListPagination(t *testing.T) {
	env, _, a, b := setupEdit(t)
	// 23 records of each kind over three days, several at the same instant
	// (ties are ordered by id), and one of B's among them.
	const n = 23
	for i := range n {
		day, minute := 10+i%3, (i/3)%4 // instants repeat
		at := fmt.Sprintf("2024-03-%02dT08:%02d:00+09:00", day, minute)
		date := fmt.Sprintf("2024-03-%02d", day+i%2)
		for _, c := range []struct {
			path string
			body map[string]any
		}{
			{"symptoms", map[string]any{"recorded_at": at, "severity": i % 4}},
			{"peak-flows", map[string]any{"recorded_at": at, "value_lpm": 300 + i, "slot": "other"}},
			{"act-results", map[string]any{"recorded_at": at, "answers": []int{1 + i%5, 3, 3, 3, 3}}},
			{"health-events", map[string]any{"kind": "er_visit", "start_date": date}},
		} {
			caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/"+c.path, c.body), 201, "")
			if i == 7 {
				caretest.Expect(t, env.Do(t, b, "POST", "/v1/me/"+c.path, c.body), 201, "")
			}
		}
	}
	const month = "from=2024-03-01&to=2024-03-31"
	for _, k := range editKinds {
		t.Run(k.path, func(t *testing.T) {
			all := pages(t, env, a, k.path, month, 1000, nil)
			if len(all) != n {
				t.Fatalf("one page of %d, want %d", len(all), n)
			}
			for _, limit := range []int{1, 2, 5, 7, n - 1, n, n + 1} {
				got := pages(t, env, a, k.path, month, limit, nil)
				if fmt.Sprint(got) != fmt.Sprint(all) {
					t.Errorf("limit %d: %v, want %v", limit, got, all)
				}
			}
		})
	}

	t.Run("writes between pages", func(t *testing.T) {
		// Symptoms on the 10th–12th; while paging 4 at a time, add one on the 9th
		// (before every cursor: not seen), one on the 13th (after: seen) and
		// delete one not read yet (not seen).
		all := pages(t, env, a, "symptoms", month, 1000, nil)
		var added uint64
		got := pages(t, env, a, "symptoms", month, 4, func(page int) {
			if page != 1 {
				return
			}
			caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-09T08:00:00+09:00", "severity": 1}), 201, "")
			r := env.Do(t, a, "POST", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-13T08:00:00+09:00", "severity": 1})
			caretest.Expect(t, r, 201, "")
			added = uint64(r.Map(t)["id"].(float64))
			caretest.Expect(t, env.Do(t, a, "DELETE", fmt.Sprintf("/v1/me/symptoms/%d", all[len(all)-1]), nil), 204, "")
		})
		want := append(append([]uint64{}, all[:len(all)-1]...), added)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})

	t.Run("bad values", func(t *testing.T) {
		r := env.Do(t, a, "GET", "/v1/me/symptoms?from=2024-03-01&to=2024-03-31&limit=2", nil)
		caretest.Expect(t, r, 200, "")
		cur := r.Map(t)["next_cursor"].(string)
		foreign := env.Do(t, a, "GET", "/v1/me/peak-flows?from=2024-03-01&to=2024-03-31&limit=2", nil).Map(t)["next_cursor"].(string)
		forged := base64.RawURLEncoding.EncodeToString([]byte(`{"k":"symptoms","f":"2024-02-29T15:00:00Z","t":"2024-03-31T15:00:00Z","a":"yesterday","i":3}`))
		tests := []struct {
			query       string
			status      int
			code, field string
		}{
			{"limit=0", 400, "out_of_range", "limit"},
			{"limit=1001", 400, "out_of_range", "limit"},
			{"limit=-5", 400, "out_of_range", "limit"},
			{"limit=ten", 400, "validation_failed", "limit"},
			{"limit=2.5", 400, "validation_failed", "limit"},
			{"from=2024-13-01&limit=0", 400, "validation_failed", "limit"},
			{"cursor=!!!", 400, "bad_cursor", ""},
			{"cursor=bm90IGpzb24", 400, "bad_cursor", ""},
			{"cursor=" + forged, 400, "bad_cursor", ""},
			{"cursor=" + foreign, 400, "bad_cursor", ""},
			{"cursor=" + cur + "&from=2024-03-02", 400, "bad_cursor", ""},
			{"cursor=" + cur + "&from=2024-03-01&to=2024-03-31", 200, "", ""},
			{"cursor=" + cur, 200, "", ""},
			{"limit=1000", 200, "", ""},
			// size, like every other list; limit is its deprecated alias.
			{"size=0", 400, "out_of_range", "size"},
			{"size=ten", 400, "validation_failed", "size"},
			{"size=2&limit=3", 400, "validation_failed", "size"},
			{"limit=3&size=2", 400, "validation_failed", "limit"},
			{"size=2&limit=2", 200, "", ""},
			{"size=1000", 200, "", ""},
		}
		for _, tt := range tests {
			r := env.Do(t, a, "GET", "/v1/me/symptoms?"+tt.query, nil)
			caretest.Expect(t, r, tt.status, tt.code)
			if tt.field != "" {
				var p web.Error
				r.JSON(t, &p)
				found := false
				for _, f := range p.Fields {
					found = found || f.Field == tt.field
				}
				if !found {
					t.Errorf("%s: fields %+v lack %s", tt.query, p.Fields, tt.field)
				}
			}
		}
		// A's cursor in B's hands is only a position: B's query lists B's records.
		mine := map[uint64]bool{}
		for _, id := range pages(t, env, a, "symptoms", month, 1000, nil) {
			mine[id] = true
		}
		r = env.Do(t, b, "GET", "/v1/me/symptoms?cursor="+cur, nil)
		caretest.Expect(t, r, 200, "")
		for _, it := range r.Map(t)["items"].([]any) {
			if id := uint64(it.(map[string]any)["id"].(float64)); mine[id] {
				t.Fatalf("B listed A's symptom %d", id)
			}
		}
	})
}
