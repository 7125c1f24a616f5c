package config

// The log shipping part of ../docker-compose.yml: a logs-setup job installs
// the template and the policy before Filebeat starts, Filebeat runs the
// repository's ops/filebeat/filebeat.yml, and that file writes to the
// configured data stream by default.

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const filebeatFile = "../ops/filebeat/filebeat.yml"

func TestComposeShipsLogs(t *testing.T) {
	data, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image     string         `yaml:"image"`
			Command   []string       `yaml:"command"`
			Volumes   []string       `yaml:"volumes"`
			DependsOn map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	setup, ok := doc.Services["logs-setup"]
	if !ok {
		t.Fatal("no logs-setup service")
	}
	if !slices.Equal(setup.Command, []string{"logs", "setup"}) {
		t.Errorf("logs-setup command = %q, want [logs setup]", setup.Command)
	}
	fb, ok := doc.Services["filebeat"]
	if !ok {
		t.Fatal("no filebeat service")
	}
	if !strings.HasPrefix(fb.Image, "docker.elastic.co/beats/filebeat:8.") {
		t.Errorf("filebeat image = %q, want Filebeat 8 (the config uses filestream parsers)", fb.Image)
	}
	wantMounts := []string{
		"./ops/filebeat/filebeat.yml:/usr/share/filebeat/filebeat.yml:ro",
		"/var/lib/docker/containers:/var/lib/docker/containers:ro",
		"/var/run/docker.sock:/var/run/docker.sock:ro",
	}
	for _, m := range wantMounts {
		if !slices.Contains(fb.Volumes, m) {
			t.Errorf("filebeat does not mount %s (volumes %q)", m, fb.Volumes)
		}
	}
	if _, err := os.Stat("../ops/filebeat/filebeat.yml"); err != nil {
		t.Errorf("the mounted config is missing: %v", err)
	}
	dep, _ := fb.DependsOn["logs-setup"].(map[string]any)
	if dep["condition"] != "service_completed_successfully" {
		t.Errorf("filebeat must start after logs-setup completed (depends_on %v)", fb.DependsOn)
	}
	if _, ok := doc.Volumes["filebeat-data"]; !ok {
		t.Error("no filebeat-data volume for Filebeat's registry")
	}
}

// TestFilebeatWritesTheConfiguredDataStream: the output index of the
// shipped Filebeat config defaults to logs.data_stream's default and is
// overridden by that key's variable.
func TestFilebeatWritesTheConfiguredDataStream(t *testing.T) {
	data, err := os.ReadFile(filebeatFile)
	if err != nil {
		t.Fatal(err)
	}
	var fb map[string]any
	if err := yaml.Unmarshal(data, &fb); err != nil {
		t.Fatal(err)
	}
	out, _ := fb["output.elasticsearch"].(map[string]any)
	index, _ := out["index"].(string)
	m := regexp.MustCompile(`^\$\{([A-Z_]+):([^}]+)\}$`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("output.elasticsearch.index = %q, want ${%s:<default>}", index, EnvName("logs.data_stream"))
	}
	if m[1] != EnvName("logs.data_stream") {
		t.Errorf("output index variable = %s, want %s", m[1], EnvName("logs.data_stream"))
	}
	if m[2] != defaults()["logs.data_stream"] {
		t.Errorf("output index default = %s, want logs.data_stream's default %v", m[2], defaults()["logs.data_stream"])
	}
	for _, key := range []string{"setup.template.enabled", "setup.ilm.enabled"} {
		if fb[key] != false {
			t.Errorf("%s = %v, want false: `soomcare logs setup` owns the template and the policy", key, fb[key])
		}
	}
}
