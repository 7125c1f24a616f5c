package config

// These tests keep the services of ../docker-compose.yml runnable: what they
// mount from the repository exists, and the monitoring services (Prometheus,
// Alertmanager, Grafana) run the repository's files against real targets.

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeServices is the part of the compose file the mount checks read.
type composeServices struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func readComposeServices(t *testing.T) composeServices {
	t.Helper()
	data, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc composeServices
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// mount is one short-syntax volume: source (interpolated) and target.
type mount struct{ source, target string }

func mountsOf(t *testing.T, volumes []string) []mount {
	t.Helper()
	var out []mount
	for _, v := range volumes {
		resolved, err := interpolate(v)
		if err != nil {
			t.Errorf("volume %q: %v", v, err)
			continue
		}
		src, rest, ok := strings.Cut(resolved, ":")
		if !ok {
			t.Errorf("volume %q: want source:target[:mode]", v)
			continue
		}
		target, _, _ := strings.Cut(rest, ":")
		out = append(out, mount{src, target})
	}
	return out
}

// Every file or directory a service bind-mounts from the repository exists,
// and every named volume is declared.
func TestComposeMountsExist(t *testing.T) {
	doc := readComposeServices(t)
	for name, svc := range doc.Services {
		for _, m := range mountsOf(t, svc.Volumes) {
			switch {
			case strings.HasPrefix(m.source, "./"):
				if _, err := os.Stat(filepath.Join("..", m.source)); err != nil {
					t.Errorf("service %s mounts %s, which is missing: %v", name, m.source, err)
				}
			case !strings.HasPrefix(m.source, "/"):
				if _, ok := doc.Volumes[m.source]; !ok {
					t.Errorf("service %s uses the volume %s, not declared under volumes", name, m.source)
				}
			}
		}
	}
}

// sourceOf is the host path mounted at target (or at a directory above
// it, joined with the rest), or "".
func sourceOf(t *testing.T, volumes []string, target string) string {
	t.Helper()
	for _, m := range mountsOf(t, volumes) {
		if m.target == target {
			return m.source
		}
		if rest, ok := strings.CutPrefix(target, strings.TrimSuffix(m.target, "/")+"/"); ok {
			return m.source + "/" + rest
		}
	}
	return ""
}

// flagValue is the value of --name=value in a command.
func flagValue(cmd []string, name string) string {
	for _, a := range cmd {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The monitoring services run the repository's files: Prometheus its
// prometheus.yml and rules, whose every target is a service listening on
// that port (the app services on 0.0.0.0 through their metrics keys);
// Alertmanager its config, templates and the Slack URL file it names;
// Grafana its provisioning and the dashboards where the provider looks.
func TestComposeMonitoring(t *testing.T) {
	doc := readComposeServices(t)
	data, _ := os.ReadFile(composeFile)
	rep, err := checkCompose(data)
	if err != nil {
		t.Fatal(err)
	}
	svc := func(name string) (image string, cmd, volumes []string) {
		s, ok := doc.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		return s.Image, s.Command, s.Volumes
	}

	// Prometheus.
	_, cmd, vols := svc("prometheus")
	cfgPath := flagValue(cmd, "config.file")
	if src := sourceOf(t, vols, cfgPath); src != "./ops/prometheus/prometheus.yml" {
		t.Errorf("prometheus --config.file=%s comes from %q, want ./ops/prometheus/prometheus.yml", cfgPath, src)
	}
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
			}
		}
		ScrapeConfigs []struct {
			JobName       string                       `yaml:"job_name"`
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "../ops/prometheus/prometheus.yml", &prom)
	for _, f := range prom.RuleFiles {
		if src := sourceOf(t, vols, path.Join(path.Dir(cfgPath), f)); src == "" || !fileExists(src) {
			t.Errorf("rule file %s: mounted from %q, which is missing", f, src)
		}
	}
	metricsKey := map[string]string{"soomcare-api": "http.metrics_addr", "soomcare-cdc": "cdc.metrics_addr", "soomcare-reminders": "reminders.metrics_addr"}
	jobs := map[string]bool{}
	targets := map[string]string{} // host:port -> job
	for _, sc := range prom.ScrapeConfigs {
		jobs[sc.JobName] = true
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets[tg] = sc.JobName
			}
		}
	}
	for _, am := range prom.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			for _, tg := range st.Targets {
				targets[tg] = "alertmanager"
			}
		}
	}
	for job := range metricsKey {
		if !jobs[job] {
			t.Errorf("prometheus.yml has no job %s", job)
		}
	}
	for tg, job := range targets {
		host, port, err := net.SplitHostPort(tg)
		if err != nil {
			t.Errorf("target %s: %v", tg, err)
			continue
		}
		if _, ok := doc.Services[host]; !ok {
			t.Errorf("job %s scrapes %s: no service %s", job, tg, host)
			continue
		}
		key, ok := metricsKey[job]
		if !ok {
			continue
		}
		want := "0.0.0.0:" + port
		if got := envValue(rep.env[host], EnvName(key)); got != want {
			t.Errorf("job %s scrapes %s, but service %s sets %s=%q, want %q", job, tg, host, EnvName(key), got, want)
		}
	}

	// Alertmanager.
	_, cmd, vols = svc("alertmanager")
	amPath := flagValue(cmd, "config.file")
	if src := sourceOf(t, vols, amPath); src != "./ops/alertmanager/alertmanager.yml" {
		t.Errorf("alertmanager --config.file=%s comes from %q, want ./ops/alertmanager/alertmanager.yml", amPath, src)
	}
	var am struct {
		Templates []string
		Receivers []struct {
			SlackConfigs []struct {
				APIURLFile string `yaml:"api_url_file"`
			} `yaml:"slack_configs"`
		}
	}
	readYAML(t, "../ops/alertmanager/alertmanager.yml", &am)
	for _, r := range am.Receivers {
		for _, sc := range r.SlackConfigs {
			if sc.APIURLFile == "" || sourceOf(t, vols, sc.APIURLFile) == "" {
				t.Errorf("the Slack webhook URL file %q is not mounted", sc.APIURLFile)
			}
		}
	}
	if src := sourceOf(t, vols, "/etc/alertmanager/templates"); src != "./ops/alertmanager/templates" || !slices.Contains(am.Templates, "/etc/alertmanager/templates/*.tmpl") {
		t.Errorf("templates: /etc/alertmanager/templates from %q, config lists %q", src, am.Templates)
	}

	// Grafana.
	_, _, vols = svc("grafana")
	if src := sourceOf(t, vols, "/etc/grafana/provisioning"); src != "./ops/grafana/provisioning" {
		t.Errorf("grafana provisioning from %q, want ./ops/grafana/provisioning", src)
	}
	var prov struct {
		Providers []struct {
			Options struct{ Path string }
		}
	}
	readYAML(t, "../ops/grafana/provisioning/dashboards/soomcare.yml", &prov)
	for _, p := range prov.Providers {
		if src := sourceOf(t, vols, p.Options.Path); src != "./ops/grafana/dashboards" {
			t.Errorf("the dashboard provider reads %s, mounted from %q, want ./ops/grafana/dashboards", p.Options.Path, src)
		}
	}
	var ds struct {
		Datasources []struct{ Name, URL string }
	}
	readYAML(t, "../ops/grafana/provisioning/datasources/prometheus.yml", &ds)
	for _, d := range ds.Datasources {
		u, err := url.Parse(d.URL)
		if err != nil || u.Port() == "" {
			t.Errorf("data source %s: url %q", d.Name, d.URL)
			continue
		}
		if _, ok := doc.Services[u.Hostname()]; !ok {
			t.Errorf("data source %s: no service %s", d.Name, u.Hostname())
		}
	}
}

func fileExists(repoPath string) bool {
	_, err := os.Stat(filepath.Join("..", repoPath))
	return err == nil
}

// envValue is the value of name in a KEY=VALUE list ("" when absent).
func envValue(environ []string, name string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
