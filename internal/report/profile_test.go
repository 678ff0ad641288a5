package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// TestHTMLShowsProfile checks that the page shows the profile.toml the run
// wrote beside it.
func TestHTMLShowsProfile(t *testing.T) {
	p, err := profile.Load("../../profiles/default.toml", []string{"fleet.clients=300", "chaos.0.nodes=[2, 0, 1]", "chaos.0.batch=2"})
	if err != nil {
		t.Fatal(err)
	}
	run := fixtureRun(t)
	run.Profile = p
	dir, _ := writeFixture(t, run)
	if _, err := profile.Load(filepath.Join(dir, results.ProfileFile), nil); err != nil {
		t.Fatalf("profile.toml does not load: %v", err)
	}
	page := mustRead(t, filepath.Join(dir, results.HTMLFile))
	if !bytes.Contains(page, []byte(`<pre class="profile">`)) || !bytes.Contains(page, []byte("duration = &#34;")) {
		t.Error("report.html does not show profile.toml")
	}
}

// TestResultsHoldNoSecrets checks that values from the environment never
// reach profile.toml, report.html or summary.json.
func TestResultsHoldNoSecrets(t *testing.T) {
	const secret = "s3cr3t-T0KEN-from-env"
	t.Setenv("WSSTORM_TEST_TOKEN", secret)
	t.Setenv("WSSTORM_TEST_PASSWORD", "hunter2-password")
	p, err := profile.Load("../profile/testdata/profile-external.toml", []string{"target.headers.X-Api-Key=typed-" + secret})
	if err != nil {
		t.Fatal(err)
	}
	run := fixtureRun(t)
	run.Profile = p
	run.Target = nil
	dir, _ := writeFixture(t, run)
	for _, f := range []string{results.ProfileFile, results.HTMLFile, results.SummaryFile} {
		content := mustRead(t, filepath.Join(dir, f))
		for _, s := range []string{secret, "hunter2-password"} {
			if bytes.Contains(content, []byte(s)) {
				t.Errorf("%s holds the secret %q", f, s)
			}
		}
	}
}

// TestWriteWithoutProfile checks that a run without a profile leaves no
// profile.toml — not even an earlier run's — and the page says so.
func TestWriteWithoutProfile(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	if _, err := Write(dir, nil, &results.Run{Results: emptyResults()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, results.ProfileFile)); !os.IsNotExist(err) {
		t.Errorf("profile.toml of the earlier run left behind: %v", err)
	}
	if page := mustRead(t, filepath.Join(dir, results.HTMLFile)); !bytes.Contains(page, []byte("has no profile.toml")) {
		t.Error("the page does not say the profile is missing")
	}
}
