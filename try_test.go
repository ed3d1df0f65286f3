package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"modconsole/backend/store/pgtest"
)

// TestTryScript runs build/team/try.sh, the README's way to try team mode:
// it starts a throwaway cluster, adds the lead, makes a key and starts two
// instances; the lead logs in on both and each says its tokens are in the
// team secret store. SIGTERM stops everything and removes the temporary
// directory, and the script writes nothing into the source tree.
func TestTryScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a cluster")
	}
	pgtest.Need(t)
	bin := buildConsole(t)
	before := treeListing(t)
	cmd := exec.Command("sh", "build/team/try.sh", bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	var dir, password string
	var urls []string
	var all []string
	reDir := regexp.MustCompile(`PostgreSQL in (\S+) `)
	rePW := regexp.MustCompile(`log in as lead with password (\S+) `)
	deadline := time.After(90 * time.Second)
	for len(urls) < 2 || dir == "" || password == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("try.sh ended early:\n%s", strings.Join(all, "\n"))
			}
			all = append(all, l)
			if m := reDir.FindStringSubmatch(l); m != nil {
				dir = m[1]
			}
			if m := rePW.FindStringSubmatch(l); m != nil {
				password = m[1]
			}
			if _, u, ok := strings.Cut(l, "team mode: log in at "); ok {
				urls = append(urls, strings.TrimSuffix(strings.TrimSpace(u), "/auth/login"))
			}
		case <-deadline:
			t.Fatalf("try.sh did not start two instances within 90 s:\n%s", strings.Join(all, "\n"))
		}
	}
	if urls[0] == urls[1] {
		t.Fatalf("both instances at %s", urls[0])
	}
	for _, base := range urls {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		body, _ := json.Marshal(map[string]string{"name": "lead", "password": password})
		resp, err := hc.Post(base+"/auth/login", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("lead login at %s: %d", base, resp.StatusCode)
		}
		resp, err = hc.Post(base+"/api/Overview", "application/json", strings.NewReader("[]"))
		if err != nil {
			t.Fatal(err)
		}
		var ov struct {
			Keyring struct {
				OK   bool   `json:"ok"`
				Kind string `json:"kind"`
			} `json:"keyring"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ov)
		resp.Body.Close()
		if err != nil || !ov.Keyring.OK || ov.Keyring.Kind != "team" {
			t.Fatalf("Overview at %s: %+v, %v (want the team secret store)", base, ov.Keyring, err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("try.sh did not stop within 60 s of SIGTERM")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("try.sh left %s behind (%v)", dir, err)
	}
	for _, base := range urls {
		if resp, err := http.Get(base + "/auth/login"); err == nil {
			resp.Body.Close()
			t.Errorf("an instance still answers at %s after try.sh stopped", base)
		}
	}
	if after := treeListing(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("try.sh changed the source tree:\nbefore %v\nafter  %v", before, after)
	}
}

// treeListing lists the files at the top of the source tree and in build/team.
func treeListing(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range []string{".", "build/team"} {
		es, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out = append(out, d+"/"+e.Name())
		}
	}
	sort.Strings(out)
	return out
}
