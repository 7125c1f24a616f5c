package dictionary_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/web"
)

// apiEnv is the editor API over a fresh database, checking with checker.
type apiEnv struct {
	*caretest.Env
	db     *sql.DB
	store  *dictionary.Store
	log    *bytes.Buffer
	editor web.Principal
	user   web.Principal
}

func newAPIEnv(t *testing.T, checker dictionary.Checker) *apiEnv {
	t.Helper()
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	store := dictionary.NewStore(db, checker, dictionary.Options{Logger: log})
	e := &apiEnv{Env: caretest.New(t, iss, auth.Use(iss), dictionary.NewAPI(store, log).Mount), db: db, store: store, log: &buf}
	e.editor = web.Principal{UserID: caretest.NewUser(t, db, "편집자"), Role: web.RoleEditor}
	e.user = web.Principal{UserID: caretest.NewUser(t, db, "민지"), Role: web.RoleUser}
	return e
}

// counts is the rows of the dictionary, the synonyms and the audit.
func (e *apiEnv) counts(t *testing.T) [3]int {
	t.Helper()
	var c [3]int
	for i, tbl := range []string{"analysis_dictionary_entries", "analysis_synonym_rules", "analysis_rule_changes"} {
		if err := e.db.QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&c[i]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

type errorBody struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Fields  []web.FieldError `json:"fields"`
}

type page struct {
	Items      []dictionary.Item `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// The migration seeded MySQL with the embedded files: a build from MySQL
// before any edit uses exactly the rules it always used.
func TestIntegrationSeedIsEmbeddedRules(t *testing.T) {
	db, _ := testdb.New(t)
	got, err := dictionary.NewStore(db, nil, dictionary.Options{}).Rules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := analyzers.Embedded()
	if !slices.Equal(got.UserDictionary, want.UserDictionary) || !slices.Equal(got.Synonyms, want.Synonyms) || !slices.Equal(got.StopTags, want.StopTags) {
		t.Fatalf("rules in MySQL differ from the embedded seed: %d/%d entries, %d/%d synonyms",
			len(got.UserDictionary), len(want.UserDictionary), len(got.Synonyms), len(want.Synonyms))
	}
	// Rules that do not validate fail a build instead of making a broken index.
	if _, err := db.Exec(`INSERT INTO analysis_synonym_rules (rule, created_by, updated_by) VALUES ('천식, 기관지천식', 'x', 'x')`); err != nil {
		t.Fatal(err)
	}
	if _, err := dictionary.NewStore(db, nil, dictionary.Options{}).Rules(t.Context()); !errors.Is(err, analyzers.ErrDuplicate) {
		t.Fatalf("Rules() with a duplicate synonym term = %v, want ErrDuplicate", err)
	}
}

// Add, edit and delete through the API, each validated by the engine and
// audited with the editor's id, before and after; lists page with their
// cursor; users get 403.
func TestIntegrationEditorAPIAudited(t *testing.T) {
	e := newAPIEnv(t, dictionary.NewEngine(testengine.OpenSearch(t).Client))
	for _, r := range []caretest.Response{
		e.DoAs(t, e.user, "GET", "/v1/editor/dictionary", nil),
		e.DoAs(t, e.user, "POST", "/v1/editor/synonyms", map[string]string{"text": "a, b"}),
	} {
		caretest.Expect(t, r, http.StatusForbidden, web.CodeForbidden)
	}

	// Every seed entry, in order, over pages.
	var listed []string
	path := "/v1/editor/dictionary?size=100"
	for path != "" {
		r := e.DoAs(t, e.editor, "GET", path, nil)
		caretest.Expect(t, r, http.StatusOK, "")
		var p page
		r.JSON(t, &p)
		for _, it := range p.Items {
			listed = append(listed, it.Text)
		}
		path = ""
		if p.NextCursor != nil {
			path = "/v1/editor/dictionary?size=100&cursor=" + *p.NextCursor
			caretest.Expect(t, e.DoAs(t, e.editor, "GET", "/v1/editor/synonyms?cursor="+*p.NextCursor, nil), http.StatusBadRequest, web.CodeBadCursor)
		}
	}
	if !slices.Equal(listed, analyzers.UserDictionary()) {
		t.Fatalf("listed %d entries, want the %d of the seed in order", len(listed), len(analyzers.UserDictionary()))
	}

	for _, c := range []struct {
		body any
		code string
	}{
		{map[string]any{}, web.CodeValidationFailed},
		{map[string]any{"text": "  "}, web.CodeValidationFailed},
		{map[string]any{"text": "숨길약\n천식"}, web.CodeValidationFailed},
		{map[string]any{"text": strings.Repeat("가", 201)}, web.CodeValidationFailed},
		{map[string]any{"text": "숨길약", "by": "x"}, web.CodeValidationFailed},
		{"[]", web.CodeBadRequest},
	} {
		caretest.Expect(t, e.DoAs(t, e.editor, "POST", "/v1/editor/dictionary", c.body), http.StatusBadRequest, c.code)
	}

	var entry, rule dictionary.Item
	r := e.DoAs(t, e.editor, "POST", "/v1/editor/dictionary", map[string]string{"text": "  숨길약 "})
	caretest.Expect(t, r, http.StatusCreated, "")
	r.JSON(t, &entry)
	by := fmt.Sprintf("user:%d", e.editor.UserID)
	if entry.Text != "숨길약" || entry.CreatedBy != by || entry.UpdatedBy != by {
		t.Fatalf("added %+v", entry)
	}
	r = e.DoAs(t, e.editor, "PUT", fmt.Sprintf("/v1/editor/dictionary/%d", entry.ID), map[string]string{"text": "숨길약 숨길 약"})
	caretest.Expect(t, r, http.StatusOK, "")
	r = e.DoAs(t, e.editor, "POST", "/v1/editor/synonyms", map[string]string{"text": "숨길약,puffer"})
	caretest.Expect(t, r, http.StatusCreated, "")
	r.JSON(t, &rule)
	if rule.Text != "숨길약, puffer" {
		t.Fatalf("synonym stored as %q", rule.Text)
	}

	// The synonym needs the entry: deleting it is refused, naming it.
	before := e.counts(t)
	r = e.DoAs(t, e.editor, "DELETE", fmt.Sprintf("/v1/editor/dictionary/%d", entry.ID), nil)
	caretest.Expect(t, r, http.StatusBadRequest, dictionary.CodeRuleRejected)
	var eb errorBody
	r.JSON(t, &eb)
	if !strings.Contains(eb.Message, "숨길약 숨길 약") || len(eb.Fields) == 0 || eb.Fields[0].Field != "id" {
		t.Fatalf("refused delete: %+v", eb)
	}
	if e.counts(t) != before {
		t.Fatal("a refused delete changed the tables")
	}

	caretest.Expect(t, e.DoAs(t, e.editor, "DELETE", fmt.Sprintf("/v1/editor/synonyms/%d", rule.ID), nil), http.StatusNoContent, "")
	caretest.Expect(t, e.DoAs(t, e.editor, "DELETE", fmt.Sprintf("/v1/editor/dictionary/%d", entry.ID), nil), http.StatusNoContent, "")
	caretest.Expect(t, e.DoAs(t, e.editor, "DELETE", fmt.Sprintf("/v1/editor/dictionary/%d", entry.ID), nil), http.StatusNotFound, web.CodeNotFound)
	caretest.Expect(t, e.DoAs(t, e.editor, "PUT", "/v1/editor/synonyms/abc", map[string]string{"text": "a, b"}), http.StatusNotFound, web.CodeNotFound)

	changes, err := e.store.Changes(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	s := func(v string) *string { return &v }
	want := []dictionary.Change{
		{Kind: dictionary.Dictionary, ItemID: entry.ID, Action: "delete", Before: s("숨길약 숨길 약")},
		{Kind: dictionary.Synonyms, ItemID: rule.ID, Action: "delete", Before: s("숨길약, puffer")},
		{Kind: dictionary.Synonyms, ItemID: rule.ID, Action: "add", After: s("숨길약, puffer")},
		{Kind: dictionary.Dictionary, ItemID: entry.ID, Action: "edit", Before: s("숨길약"), After: s("숨길약 숨길 약")},
		{Kind: dictionary.Dictionary, ItemID: entry.ID, Action: "add", After: s("숨길약")},
	}
	if len(changes) != len(want) {
		t.Fatalf("%d audit rows, want %d", len(changes), len(want))
	}
	for i, w := range want {
		c := changes[i]
		if c.Kind != w.Kind || c.ItemID != w.ItemID || c.Action != w.Action || !sameText(c.Before, w.Before) || !sameText(c.After, w.After) ||
			c.Actor != by || c.ActorUserID == nil || *c.ActorUserID != e.editor.UserID || c.At.IsZero() {
			t.Errorf("audit row %d = %+v, want %+v by %s", i, c, w, by)
		}
	}
	if got, _ := e.store.Rules(t.Context()); !slices.Equal(got.UserDictionary, analyzers.UserDictionary()) {
		t.Error("the dictionary is not back to the seed")
	}
}

func sameText(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// A refused entry or rule gets 400 analysis_rule_rejected naming it and the
// kind of problem, and nothing is saved (no row, no audit); the engine's
// words stay in the log, without the rule's.
func TestIntegrationRejectedRuleSavesNothing(t *testing.T) {
	os := testengine.OpenSearch(t).Client
	e := newAPIEnv(t, dictionary.NewEngine(os))
	before := e.counts(t)
	for _, c := range []struct {
		path, text string
		byEngine   bool
	}{
		{"/v1/editor/dictionary", "천식약 천식 약약", false}, // segments longer than the word (nori refuses it too, below)
		{"/v1/editor/dictionary", "천식", false},        // already an entry
		{"/v1/editor/synonyms", "숨길약, puffer", false}, // a Korean word not in the dictionary
		{"/v1/editor/synonyms", "!!, zzq", true},      // only the engine knows "!!" analyses to nothing
	} {
		r := e.DoAs(t, e.editor, "POST", c.path, map[string]string{"text": c.text})
		caretest.Expect(t, r, http.StatusBadRequest, dictionary.CodeRuleRejected)
		var eb errorBody
		r.JSON(t, &eb)
		if !strings.Contains(eb.Message, `"`+c.text+`"`) || len(eb.Fields) == 0 || eb.Fields[0].Field != "text" {
			t.Errorf("%s: answer %+v does not name the rule", c.text, eb)
		}
		if got := strings.Contains(eb.Message, "검색 엔진"); got != c.byEngine {
			t.Errorf("%s: refused by the engine = %v, want %v: %s", c.text, got, c.byEngine, eb.Message)
		}
		if strings.Contains(eb.Message, "Failed to build") || strings.Contains(eb.Message, "exception") {
			t.Errorf("%s: the engine's message reached the client: %s", c.text, eb.Message)
		}
		if got := e.counts(t); got != before {
			t.Fatalf("%s: tables %v after a refusal, want %v", c.text, got, before)
		}
	}
	if log := e.log.String(); !strings.Contains(log, "engine refused analysis rules") || strings.Contains(log, "zzq") {
		t.Errorf("log line of the engine's refusal missing or with the rule's words:\n%s", log)
	}

	// The engine check on its own refuses what nori refuses.
	r := analyzers.Embedded()
	if err := dictionary.NewEngine(os).Check(t.Context(), r); err != nil {
		t.Fatalf("the seed: %v", err)
	}
	r.UserDictionary = append(r.UserDictionary, "천식약 천식 약약")
	var refusal *dictionary.EngineRefusal
	if err := dictionary.NewEngine(os).Check(t.Context(), r); !errors.As(err, &refusal) || !strings.Contains(refusal.Reason, "segmentation") {
		t.Fatalf("Check with a malformed entry = %v, want the engine's refusal", err)
	}
}

// On an engine without analysis-nori and analysis-common (Elasticsearch's
// basic profile here) a change answers 409 analysis_plugin_missing naming
// them, and nothing is saved.
func TestIntegrationPluginMissingOnBasicProfile(t *testing.T) {
	es := testengine.All(t)[1].Client
	e := newAPIEnv(t, dictionary.NewEngine(es))
	before := e.counts(t)
	for _, c := range []struct{ method, path, text string }{
		{"POST", "/v1/editor/dictionary", "숨길약"},
		{"POST", "/v1/editor/synonyms", "zzpuff, zzinhaler"},
		{"PUT", "/v1/editor/synonyms/1", "천식, asthma, zzasthma"},
	} {
		r := e.DoAs(t, e.editor, c.method, c.path, map[string]string{"text": c.text})
		caretest.Expect(t, r, http.StatusConflict, dictionary.CodePluginMissing)
		var eb errorBody
		r.JSON(t, &eb)
		if !strings.Contains(eb.Message, "analysis-nori") || !strings.Contains(eb.Message, "analysis-common") {
			t.Errorf("%s %s: %q does not name the plugins", c.method, c.path, eb.Message)
		}
	}
	if got := e.counts(t); got != before {
		t.Fatalf("tables %v, want %v", got, before)
	}
	// Lists read MySQL only.
	caretest.Expect(t, e.DoAs(t, e.editor, "GET", "/v1/editor/synonyms", nil), http.StatusOK, "")
}

// Changes are checked one after the other: two editors adding groups that
// share a term at the same time cannot both succeed.
func TestIntegrationConcurrentChangesAreSerialised(t *testing.T) {
	db, _ := testdb.New(t)
	store := dictionary.NewStore(db, nil, dictionary.Options{})
	for round := range 5 {
		shared := fmt.Sprintf("zzshared%d", round)
		errs := make(chan error, 2)
		for i := range 2 {
			go func() {
				_, err := store.Add(t.Context(), dictionary.Synonyms, fmt.Sprintf("zzterm%d%d, %s", round, i, shared), dictionary.Actor{Name: "t"})
				errs <- err
			}()
		}
		var ok, refused int
		for range 2 {
			var rej *dictionary.RejectedError
			switch err := <-errs; {
			case err == nil:
				ok++
			case errors.As(err, &rej):
				refused++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d saved, %d refused; want 1 and 1", round, ok, refused)
		}
	}
	if _, err := store.Rules(t.Context()); err != nil {
		t.Fatalf("rules after concurrent changes: %v", err)
	}
}

// A refusal names the rules by their ids as they are when the change is
// checked: after a rule is deleted, a rule that clashes with a later one
// names that one's id (read in the change's transaction), never the deleted
// one's nor a position.
func TestIntegrationRefusalNamesRuleIDsAfterDelete(t *testing.T) {
	db, _ := testdb.New(t)
	store := dictionary.NewStore(db, nil, dictionary.Options{})
	ctx := t.Context()
	p, err := store.List(ctx, dictionary.Synonyms, 0, 3)
	if err != nil || len(p.Items) < 3 {
		t.Fatalf("seed synonyms: %v %v", p, err)
	}
	by := dictionary.Actor{Name: "test"}
	if err := store.Delete(ctx, dictionary.Synonyms, p.Items[0].ID, by); err != nil {
		t.Fatal(err)
	}
	clash := p.Items[2] // now the second rule
	term := strings.TrimSpace(strings.Split(clash.Text, ",")[0])
	_, err = store.Add(ctx, dictionary.Synonyms, term+", zzqx", by)
	var rej *dictionary.RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("Add = %v, want a refusal", err)
	}
	want := fmt.Sprintf("the new synonym rule: term %q already in synonym rule %d", term, clash.ID)
	if msg := rej.Message(); !strings.Contains(msg, want) {
		t.Errorf("%s\nlacks %q", msg, want)
	}
}
