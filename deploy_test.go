package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v2"
)

// TestTeamDeployExamples checks the deployment examples of docs/team.md
// against the real command line: compose.yaml has the database, two
// instances and the proxy, and the instances' serve arguments parse with
// serve's own flags; the systemd unit's ExecStart (its specifiers filled
// in) parses too, and `systemd-analyze verify` accepts the unit where
// systemd is installed. (Running the containers or the unit is not done
// here: no container engine or systemd as init in the test environment.)
func TestTeamDeployExamples(t *testing.T) {
	t.Setenv(dbEnv, "postgres://modconsole@db:5432/console?sslmode=disable")
	b, err := os.ReadFile("build/team/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"db", "console1", "console2", "proxy"} {
		if _, ok := compose.Services[name]; !ok {
			t.Fatalf("compose.yaml has no service %q", name)
		}
	}
	for _, name := range []string{"console1", "console2"} {
		svc := compose.Services[name]
		if len(svc.Command) == 0 || svc.Command[0] != "serve" {
			t.Fatalf("%s: command %v", name, svc.Command)
		}
		cfg, err := parseFlags("serve", svc.Command[1:], "keyring", io.Discard)
		if err != nil {
			t.Fatalf("%s: serve %v: %v", name, svc.Command[1:], err)
		}
		if cfg.secrets != "team" || cfg.publicURL != "https://console.localhost" || cfg.db == "" {
			t.Errorf("%s: secrets %q, public URL %q, db %q", name, cfg.secrets, cfg.publicURL, cfg.db)
		}
		if svc.Environment["MODCONSOLE_DB"] == "" || strings.Contains(svc.Environment["MODCONSOLE_DB"], ":@") {
			t.Errorf("%s: MODCONSOLE_DB %q", name, svc.Environment["MODCONSOLE_DB"])
		}
		for _, s := range svc.Secrets {
			if _, ok := compose.Secrets[s]; !ok {
				t.Errorf("%s uses the undeclared secret %q", name, s)
			}
		}
	}

	unit, err := os.ReadFile("build/team/modconsole@.service")
	if err != nil {
		t.Fatal(err)
	}
	var exec0 string
	for _, l := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec0 = v
		}
	}
	args := strings.Fields(strings.NewReplacer("%i", "8081", "%S", "/var/lib", "%d", "/run/credentials/modconsole@8081.service",
		"${MODCONSOLE_PUBLIC_URL}", "https://console.example.com").Replace(exec0))
	if len(args) < 2 || args[0] != "/usr/bin/modconsole" || args[1] != "serve" {
		t.Fatalf("ExecStart=%s", exec0)
	}
	cfg, err := parseFlags("serve", args[2:], "keyring", io.Discard)
	if err != nil {
		t.Fatalf("the unit's serve %v: %v", args[2:], err)
	}
	if cfg.secrets != "team" || cfg.addr != "127.0.0.1:8081" || cfg.publicURL == "" {
		t.Errorf("the unit's serve: secrets %q, addr %q, public URL %q", cfg.secrets, cfg.addr, cfg.publicURL)
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit's syntax is not verified")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "modconsole@8081.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), "/usr/bin/modconsole", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sa, "verify", p).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
