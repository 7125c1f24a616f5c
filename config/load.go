package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Error is a configuration problem that names the key and why.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Reason
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Reason)
}

// Load reads the configuration. path may be empty (defaults and environment
// only). environ is the process environment (os.Environ()); tests pass their own.
func Load(path string, environ []string) (*Config, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{Reason: fmt.Sprintf("cannot read config file: %v", err)}
		}
		defer f.Close()
		v.SetConfigType("yaml")
		if err := v.ReadConfig(f); err != nil {
			return nil, &Error{Reason: fmt.Sprintf("%s is not valid YAML: %s", path, oneLine(err))}
		}
		if err := checkKnown(v.AllKeys()); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(v, environ); err != nil {
		return nil, err
	}
	var c Config
	hook := mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)
	if err := v.Unmarshal(&c, viper.DecodeHook(hook)); err != nil {
		return nil, &Error{Reason: oneLine(err)}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.applyDeprecated()
	return &c, nil
}

// checkKnown rejects keys that are not configuration keys (typos).
func checkKnown(keys []string) error {
	known := defaults()
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			return &Error{Key: k, Reason: "unknown key (see config.example.yaml for the keys)"}
		}
	}
	return nil
}

// applyEnv maps SOOMCARE_* variables onto keys; an unknown SOOMCARE_ variable is
// an error so a typo in a deployment never silently falls back to a default.
func applyEnv(v *viper.Viper, environ []string) error {
	byEnv := map[string]string{}
	for _, k := range Keys() {
		byEnv[EnvName(k)] = k
	}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		key, known := byEnv[name]
		if !known {
			if isToolEnv(name) {
				continue
			}
			return &Error{Key: name, Reason: "unknown environment variable (want SOOMCARE_<KEY> for a key in config.example.yaml)"}
		}
		v.Set(key, val)
	}
	return nil
}

// isToolEnv reports variables with the prefix that belong to tooling, not to
// the configuration: the test harness and scripts (scripts/*.sh, .ci/run),
// whose variables the binaries inherit when tests run them. This is the one
// list of them; TestHarnessVariablesAreKeysOrIgnored checks that every
// SOOMCARE_ name in those scripts is a key or listed here. Test-only
// switches go under SOOMCARE_TEST_, the local stack's (run-local.sh) under
// SOOMCARE_LOCAL_; the other names are matched exactly, so
// a misspelling of them is still an error.
func isToolEnv(name string) bool {
	for _, p := range []string{"SOOMCARE_TEST_", "SOOMCARE_TESTENV_", "SOOMCARE_LOCAL_", "SOOMCARE_JAVA"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch name {
	case "SOOMCARE_KEEP_ENGINES", "SOOMCARE_INTEGRATION", "SOOMCARE_CACHE_DIR", "SOOMCARE_CONFIG",
		"SOOMCARE_OPENSEARCH_VERSION", "SOOMCARE_ELASTICSEARCH_VERSION", "SOOMCARE_ELASTICSEARCH9_VERSION",
		"SOOMCARE_LUCENE_VERSION", "SOOMCARE_PROMTOOL", "SOOMCARE_AMTOOL":
		return true
	}
	return false
}

// Keys returns every configuration key in dotted form, sorted.
func Keys() []string {
	d := defaults()
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EnvName returns the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// IsConfigError reports whether err is a configuration problem.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
