package config

// These tests keep ../docker-compose.yml honest about configuration: every
// SOOMCARE_* variable a service sets must be the environment name of a real
// key (EnvName(k) for k in Keys()), and the values, applied as the container
// would see them, must pass Load's validation. Load itself rejects unknown
// SOOMCARE_* variables at start-up, but only once someone runs the container;
// this catches a typo such as SOOMCARE_SEARCH_ENGIN in CI instead.

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the repository's compose file, relative to this package.
const composeFile = "../docker-compose.yml"

// composeReport is what checkCompose found in a compose file.
type composeReport struct {
	// env maps each service that sets SOOMCARE_* variables to those variables
	// as KEY=VALUE, in the order of the environ Load receives.
	env map[string][]string
	// problems holds one line per problem, each naming the service and the
	// variable; empty when the file is fine.
	problems []string
}

// checkCompose checks the SOOMCARE_* variables of every service of a compose
// file. It returns an error only when data is not a compose file at all.
//
// The environment of a service may be a map (KEY: value, a null value passes
// the host's variable through) or a list (KEY=value, or KEY alone). YAML merge
// keys (<<: *anchor), at service level or inside environment, are resolved by
// yaml.v3 when decoding into map[string]any. env_file is not read.
func checkCompose(data []byte) (composeReport, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return composeReport{}, fmt.Errorf("compose file is not valid YAML: %w", err)
	}
	services, ok := doc["services"].(map[string]any)
	if !ok || len(services) == 0 {
		return composeReport{}, errors.New("compose file has no services mapping")
	}

	known := map[string]string{} // SOOMCARE_X -> x
	for _, k := range Keys() {
		known[EnvName(k)] = k
	}

	rep := composeReport{env: map[string][]string{}}
	report := func(format string, args ...any) { rep.problems = append(rep.problems, fmt.Sprintf(format, args...)) }

	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, svc := range names {
		def, _ := services[svc].(map[string]any)
		vars, err := serviceEnvironment(def["environment"])
		if err != nil {
			report("service %q: %v", svc, err)
			continue
		}
		var environ []string
		unknown := false
		for _, v := range vars {
			if !strings.HasPrefix(v.name, EnvPrefix+"_") {
				continue // MYSQL_*, ES_JAVA_OPTS, discovery.type, ...
			}
			if _, ok := known[v.name]; !ok {
				report("service %q: %s is not a configuration variable (want %s_<KEY> for a key of config.Keys()%s)",
					svc, v.name, EnvPrefix, suggest(v.name, known))
				unknown = true
				continue
			}
			if v.passThrough {
				// KEY alone / KEY: null takes the host's value: nothing to validate here.
				continue
			}
			val, err := interpolate(v.value)
			if err != nil {
				report("service %q: %s: %v", svc, v.name, err)
				unknown = true
				continue
			}
			environ = append(environ, v.name+"="+val)
		}
		if len(environ) > 0 {
			rep.env[svc] = environ
		}
		if unknown || len(environ) == 0 {
			continue // Load would only repeat the problem above
		}
		// Validation sees the values as the container would, on top of the
		// defaults. A value naming a file (search.tls.ca_file) would be checked on
		// this machine, not in the container: the compose file sets none.
		if _, err := Load("", environ); err != nil {
			variable := ""
			var cerr *Error
			if errors.As(err, &cerr) && cerr.Key != "" {
				variable = EnvName(cerr.Key) + ": "
			}
			report("service %q: %s%v", svc, variable, err)
		}
	}
	return rep, nil
}

// suggest returns ", did you mean X?" for the known variable closest to name
// when it is a likely typo (edit distance at most 3), and "" otherwise.
func suggest(name string, known map[string]string) string {
	best, bestDist := "", 4
	for k := range known {
		if d := editDistance(name, k); d < bestDist || d == bestDist && k < best {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return ", did you mean " + best + "?"
}

// editDistance is the Levenshtein distance between two ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// composeVar is one entry of a service's environment.
type composeVar struct {
	name, value string
	passThrough bool // no value in the file: taken from the host's environment
}

// serviceEnvironment lists the environment of one service, in file order for
// the list form and sorted by name for the map form.
func serviceEnvironment(env any) ([]composeVar, error) {
	switch env := env.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		names := make([]string, 0, len(env))
		for name := range env {
			names = append(names, name)
		}
		sort.Strings(names)
		vars := make([]composeVar, 0, len(env))
		for _, name := range names {
			switch val := env[name].(type) {
			case nil:
				vars = append(vars, composeVar{name: name, passThrough: true})
			case string:
				vars = append(vars, composeVar{name: name, value: val})
			case bool, int, int64, uint64, float64:
				// Compose accepts scalars and passes them as their YAML text.
				vars = append(vars, composeVar{name: name, value: fmt.Sprint(val)})
			default:
				return nil, fmt.Errorf("environment: %s must be a string, number, boolean or null (got %T)", name, val)
			}
		}
		return vars, nil
	case []any:
		vars := make([]composeVar, 0, len(env))
		for i, item := range env {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("environment[%d]: want KEY=VALUE (got %T)", i, item)
			}
			name, val, hasValue := strings.Cut(s, "=")
			vars = append(vars, composeVar{name: name, value: val, passThrough: !hasValue})
		}
		return vars, nil
	default:
		return nil, fmt.Errorf("environment must be a map or a list of KEY=VALUE (got %T)", env)
	}
}

// interpolation matches Compose's variable syntax: $$, ${NAME}, ${NAME<op>arg}
// with op one of :- - :? ? :+ +, and $NAME.
var interpolation = regexp.MustCompile(`\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))`)

// interpolate resolves Compose interpolation in s as if no variable were set
// in the host environment, which is what a fresh checkout gets: defaults
// apply, $$ is a literal $, and a required variable (${NAME:?msg}) is an error
// because the value cannot be known from the file. Nested interpolation inside
// a default is not supported.
func interpolate(s string) (string, error) {
	var b strings.Builder
	last := 0
	for _, m := range interpolation.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		last = m[1]
		group := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return s[m[2*i]:m[2*i+1]]
		}
		switch op := group(3); {
		case group(1) == "$":
			b.WriteString("$")
		case op == ":-" || op == "-":
			b.WriteString(group(4))
		case op == ":?" || op == "?":
			return "", fmt.Errorf("value %q requires ${%s} from the host environment", s, group(2))
		default: // ${NAME}, $NAME, :+ and + on an unset variable
		}
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// TestComposeEnvironment checks the repository's docker-compose.yml.
func TestComposeEnvironment(t *testing.T) {
	data, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatalf("read %s: %v", composeFile, err)
	}
	rep, err := checkCompose(data)
	if err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	for _, p := range rep.problems {
		t.Errorf("%s: %s", composeFile, p)
	}

	// Guard against passing vacuously (empty file, environment moved to an
	// env_file this test does not read): some service must configure MySQL.
	dsn := EnvName("mysql.dsn")
	var withDSN []string
	for svc, environ := range rep.env {
		for _, kv := range environ {
			if strings.HasPrefix(kv, dsn+"=") {
				withDSN = append(withDSN, svc)
			}
		}
	}
	if len(withDSN) == 0 {
		t.Errorf("%s: no service sets %s", composeFile, dsn)
	}

	svcs := make([]string, 0, len(rep.env))
	for svc := range rep.env {
		svcs = append(svcs, svc)
	}
	sort.Strings(svcs)
	for _, svc := range svcs {
		t.Logf("service %s: %d SOOMCARE_* variables checked", svc, len(rep.env[svc]))
	}
}

// TestComposeCheckerReports feeds checkCompose small compose files, good and
// bad, so the check on the real file is known to bite.
func TestComposeCheckerReports(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    []string // substrings, each of which some problem must contain; none: no problems
		wantErr bool     // not a compose file at all
	}{
		{
			name: "valid map and list forms",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_MYSQL_DSN: "u:p@tcp(mysql:3306)/soomcare"
      SOOMCARE_HTTP_MAX_BODY_BYTES: 4096
      SOOMCARE_SEARCH_TLS_INSECURE_SKIP_VERIFY: true
      MYSQL_PASSWORD: unrelated
  cdc:
    environment:
      - SOOMCARE_SEARCH_ADDRESSES=http://a:9200,http://b:9200
      - SOOMCARE_CDC_TABLES=users,posts
      - ES_JAVA_OPTS=-Xms1g -Xmx1g
  mysql:
    image: mysql:8.4
`,
		},
		{
			name: "typo in map form",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_SEARCH_ENGIN: elasticsearch
`,
			want: []string{`service "api"`, "SOOMCARE_SEARCH_ENGIN is not a configuration variable", "did you mean SOOMCARE_SEARCH_ENGINE?"},
		},
		{
			name: "unknown variable far from any key",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_FEATURE_FLAGS: "a,b"
`,
			want: []string{`service "api"`, "SOOMCARE_FEATURE_FLAGS is not a configuration variable (want SOOMCARE_<KEY> for a key of config.Keys())"},
		},
		{
			name: "typo in list form",
			yaml: `
services:
  cdc:
    environment:
      - SOOMCARE_LOG_FORMAT=json
      - SOOMCARE_SEARCH_ENGIN=opensearch
`,
			want: []string{`service "cdc"`, "SOOMCARE_SEARCH_ENGIN is not a configuration variable"},
		},
		{
			name: "typo without a value (passed through from the host)",
			yaml: `
services:
  api:
    environment:
      - SOOMCARE_SEARCH_ENGIN
`,
			want: []string{`service "api"`, "SOOMCARE_SEARCH_ENGIN"},
		},
		{
			name: "typo in an anchor merged into environment",
			yaml: `
x-env: &env
  SOOMCARE_SEARCH_ENGIN: elasticsearch
services:
  seed:
    environment:
      <<: *env
      SOOMCARE_LOG_FORMAT: json
`,
			want: []string{`service "seed"`, "SOOMCARE_SEARCH_ENGIN"},
		},
		{
			name: "typo in an anchor merged at service level",
			yaml: `
x-env: &env
  SOOMCARE_MYSQL_DSN: "u:p@tcp(mysql:3306)/soomcare"
  SOOMCARE_SEARCH_ENGIN: elasticsearch
x-app: &app
  image: soomcare:dev
  environment: *env
services:
  migrate:
    <<: *app
    command: [migrate, up]
`,
			want: []string{`service "migrate"`, "SOOMCARE_SEARCH_ENGIN"},
		},
		{
			name: "known variable with an invalid value",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_SEARCH_ENGINE: solr
`,
			want: []string{`service "api"`, "SOOMCARE_SEARCH_ENGINE", "must be one of"},
		},
		{
			name: "invalid address list",
			yaml: `
services:
  api:
    environment:
      - SOOMCARE_SEARCH_ADDRESSES=elasticsearch:9200
`,
			want: []string{`service "api"`, "SOOMCARE_SEARCH_ADDRESSES", "not an http(s) URL"},
		},
		{
			name: "interpolation default is what gets validated",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_LOG_FORMAT: ${LOG_FORMAT:-xml}
`,
			want: []string{`service "api"`, "SOOMCARE_LOG_FORMAT", "text, json"},
		},
		{
			name: "valid interpolation and escaped dollar",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_LOG_LEVEL: ${LOG_LEVEL:-debug}
      SOOMCARE_SEARCH_PASSWORD: "pa$$word"
      SOOMCARE_SEARCH_USERNAME: elastic
`,
		},
		{
			name: "required host variable cannot be checked",
			yaml: `
services:
  api:
    environment:
      SOOMCARE_MYSQL_DSN: ${DSN:?set DSN}
`,
			want: []string{`service "api"`, "SOOMCARE_MYSQL_DSN", "requires ${DSN}"},
		},
		{
			name: "environment of the wrong shape",
			yaml: `
services:
  api:
    environment: SOOMCARE_LOG_FORMAT=json
`,
			want: []string{`service "api"`, "environment must be a map or a list"},
		},
		{
			name:    "no services",
			yaml:    "x-env: {}\n",
			wantErr: true,
		},
		{
			name:    "not YAML",
			yaml:    "services: [\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := checkCompose([]byte(tt.yaml))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want an error, got report %+v", rep)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.want) == 0 {
				for _, p := range rep.problems {
					t.Errorf("unexpected problem: %s", p)
				}
				return
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(rep.problems, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no problem mentions %q; problems: %q", w, rep.problems)
				}
			}
		})
	}
}

// TestComposeInterpolate pins the subset of Compose interpolation the checker
// understands, resolved against an empty host environment.
func TestComposeInterpolate(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "plain", want: "plain"},
		{in: "${A:-x}", want: "x"},
		{in: "${A-x}", want: "x"},
		{in: "http://${HOST:-es}:9200", want: "http://es:9200"},
		{in: "${A}", want: ""},
		{in: "$A/b", want: "/b"},
		{in: "${A:+set}", want: ""},
		{in: "a$$b", want: "a$b"},
		{in: "$${A}", want: "${A}"},
		{in: "${A:?needed}", wantErr: true},
		{in: "${A?needed}", wantErr: true},
	}
	for _, tt := range tests {
		got, err := interpolate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("interpolate(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
