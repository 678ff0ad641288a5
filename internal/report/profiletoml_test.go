package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func stepWithReason(reason string) profile.ChaosStep {
	s := profile.StepDefaults(profile.ActionClose)
	s.At = profile.Dur(20 * time.Second)
	s.Reason = reason
	return s
}

// comparable returns p without what profile.toml cannot carry: where the
// profile was read from, its digest, the overrides (applied already) and
// the secrets (redacted).
func comparableProfile(p *profile.Profile) profile.Profile {
	c := *p
	c.Path, c.SHA256, c.Overrides, c.Target.Secrets = "", "", nil, nil
	if len(c.Chaos) == 0 {
		c.Chaos = nil // --set chaos=[] leaves an empty list, a file without steps none
	}
	return c
}

// TestProfileTOMLRoundTrip checks that profile.toml is a profile that loads
// back to the run's effective profile: the file's keys, the defaults and the
// --set overrides, with every action's own keys and no other.
func TestProfileTOMLRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		sets       []string
	}{
		{"shipped default", "../../profiles/default.toml", []string{"fleet.clients=300", "chaos.0.nodes=[2, 0, 1]", "chaos.0.batch=2"}},
		{"every action", "testdata/profile-actions.toml", nil},
		{"restart hooks", "testdata/profile-hooks.toml", nil},
		{"built-in", "", []string{"chaos=[]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := profile.Load(tt.file, tt.sets)
			if err != nil {
				t.Fatal(err)
			}
			run := fixtureRun(t)
			run.Profile = p
			dir, _ := writeFixture(t, run)
			path := filepath.Join(dir, ProfileFile)
			data := mustRead(t, path)
			back, err := profile.Parse(data, path, nil)
			if err != nil {
				t.Fatalf("profile.toml does not load: %v\n%s", err, data)
			}
			if got, want := comparableProfile(back), comparableProfile(p); !reflect.DeepEqual(got, want) {
				t.Errorf("profile.toml loads as\n%+v\nwant\n%+v\n%s", got, want, data)
			}
			for _, o := range tt.sets {
				if !bytes.Contains(data, []byte("#   --set "+o+"\n")) {
					t.Errorf("profile.toml does not list the override %q", o)
				}
			}
			// The page shows it.
			page := mustRead(t, filepath.Join(dir, HTMLFile))
			if !bytes.Contains(page, []byte(`<pre class="profile">`)) || !bytes.Contains(page, []byte("duration = &#34;")) {
				t.Error("report.html does not show profile.toml")
			}
		})
	}
}

// TestProfileTOMLSecrets checks that values from the environment never
// reach profile.toml or report.html, and that the file still loads.
func TestProfileTOMLSecrets(t *testing.T) {
	const secret = "s3cr3t-T0KEN-from-env"
	t.Setenv("WSSTORM_TEST_TOKEN", secret)
	t.Setenv("WSSTORM_TEST_PASSWORD", "hunter2-password")
	p, err := profile.Load("testdata/profile-external.toml", []string{"target.headers.X-Api-Key=typed-" + secret})
	if err != nil {
		t.Fatal(err)
	}
	run := fixtureRun(t)
	run.Profile = p
	run.Target = nil
	dir, _ := writeFixture(t, run)
	data := mustRead(t, filepath.Join(dir, ProfileFile))
	for _, f := range []string{ProfileFile, HTMLFile, SummaryFile} {
		content := mustRead(t, filepath.Join(dir, f))
		for _, s := range []string{secret, "hunter2-password"} {
			if bytes.Contains(content, []byte(s)) {
				t.Errorf("%s holds the secret %q", f, s)
			}
		}
	}
	if !bytes.Contains(data, []byte(`Authorization = "Bearer [redacted]"`)) {
		t.Errorf("the header is not shown redacted:\n%s", data)
	}
	back, err := profile.Parse(data, "profile.toml", nil)
	if err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, data)
	}
	if want := "ws://user:%5Bredacted%5D@127.0.0.1:1/socket?token=%5Bredacted%5D&literal=a$b"; back.Target.URL != want {
		t.Errorf("URL loads back as %q, want %q", back.Target.URL, want)
	}
	if got := back.Target.Headers["X-Api-Key"]; got != "[redacted]" {
		t.Errorf("X-Api-Key loads back as %q", got)
	}
	if !reflect.DeepEqual(back.Fleet, p.Fleet) || back.Duration != p.Duration {
		t.Errorf("fleet or duration changed on the way: %+v", back)
	}
}

// TestProfileTOMLSecretLikeTOML checks that a secret that reads like a
// TOML value does not break the file.
func TestProfileTOMLSecretLikeTOML(t *testing.T) {
	t.Setenv("WSSTORM_TEST_TOKEN", "true")
	t.Setenv("WSSTORM_TEST_PASSWORD", "2000")
	p, err := profile.Load("testdata/profile-external.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeProfileTOML(&b, p); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.Parse(b.Bytes(), "profile.toml", nil); err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, b.String())
	}
	if !strings.Contains(b.String(), "honor_retry_after = true") {
		t.Errorf("a secret \"true\" garbled the file:\n%s", b.String())
	}
}

// TestProfileTOMLShortSecrets checks that secrets too short for Redact to
// replace everywhere (1 to 3 characters) still go whole from the URL and
// headers, including a header typed with --set.
func TestProfileTOMLShortSecrets(t *testing.T) {
	t.Setenv("WSSTORM_TEST_TOKEN", "k9z")
	t.Setenv("WSSTORM_TEST_PASSWORD", "pw1")
	p, err := profile.Load("testdata/profile-external.toml", []string{"target.headers.X-Other=abc"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeProfileTOML(&b, p); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, secret := range []string{"k9z", "pw1", "abc"} {
		if strings.Contains(text, secret) {
			t.Errorf("profile.toml holds the secret %q:\n%s", secret, text)
		}
	}
	if _, err := profile.Parse(b.Bytes(), "profile.toml", nil); err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, text)
	}
}

// TestWriteWithoutProfile checks that a run without a profile leaves no
// profile.toml — not even an earlier run's — and the page says so.
func TestWriteWithoutProfile(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	if _, err := Write(dir, &Run{Results: emptyResults()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ProfileFile)); !os.IsNotExist(err) {
		t.Errorf("profile.toml of the earlier run left behind: %v", err)
	}
	if page := mustRead(t, filepath.Join(dir, HTMLFile)); !bytes.Contains(page, []byte("has no profile.toml")) {
		t.Error("the page does not say the profile is missing")
	}
}
