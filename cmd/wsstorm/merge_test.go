package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/merge/mergetest"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// TestMergeCmd merges the segments of a known run and checks the results
// directory, the printed summary and the exit code: 1 when the merged run
// misses a threshold (a client of the known run gives up), 0 when it meets
// them all.
func TestMergeCmd(t *testing.T) {
	root := t.TempDir()
	single, segs := mergetest.Write(t, root, mergetest.Options{})
	out := filepath.Join(root, "merged")
	junit := filepath.Join(root, "junit.xml")
	code, stdout, stderr := wsstorm(t, "merge", segs[1], segs[0], segs[2], "--out", out, "--junit", junit)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (thresholds missed)\n%s", code, exitFailed, stderr)
	}
	if want := "wsstorm merge: 3 segments of profile default, the chaos from segment 0\n"; stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	for _, name := range []string{results.SummaryFile, results.HistogramsFile, results.TimeseriesFile, results.ProfileFile, results.HTMLFile} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("merged results lack %s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, results.SegmentFile)); err == nil {
		t.Errorf("merged results hold %s: they could be merged again as a segment", results.SegmentFile)
	}
	if _, err := os.Stat(junit); err != nil {
		t.Errorf("no JUnit file: %v", err)
	}
	// The summary is the one the merged results hold, printed as run prints it.
	code, text, _ := wsstorm(t, "report", out)
	if code != exitPassed || stdout != text+"results: "+out+"\n" || !strings.Contains(stdout, "FAIL  never_reconnected == 0") {
		t.Errorf("stdout:\n%s\nwant what wsstorm report prints:\n%s", stdout, text)
	}
	got, err := results.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := results.ReadSummary(single)
	if err != nil {
		t.Fatal(err)
	}
	if got.Merged == nil || got.Merged.Segments != 3 {
		t.Errorf("merged block %+v", got.Merged)
	}
	got.Merged = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged summary differs from one process's:\n got %+v\nwant %+v", got, want)
	}

	// A profile whose thresholds the run meets.
	path := filepath.Join(root, "lenient.toml")
	if err := os.WriteFile(path, []byte("name = \"lenient\"\n[thresholds]\n\"reconnect.p99\" = \"< 5s\"\n\"events.t90\" = \"< 2s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Load(path, []string{"fleet.clients=30", "duration=8s"})
	if err != nil {
		t.Fatal(err)
	}
	_, segs = mergetest.Write(t, filepath.Join(root, "lenient"), mergetest.Options{Profile: p})
	code, stdout, stderr = wsstorm(t, append([]string{"merge", "--out", filepath.Join(root, "merged-lenient")}, segs...)...)
	if code != exitPassed || !strings.Contains(stdout, "wsstorm: profile lenient, 30 clients, 8.0s, seed 1 — passed") {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitPassed, stdout, stderr)
	}
}

// TestMergeCmdErrors checks each problem with the arguments or the
// directories: one line on stderr saying what is wrong and what to do, and
// exit 2 for what the user named, 3 for results that cannot be written.
func TestMergeCmdErrors(t *testing.T) {
	root := t.TempDir()
	_, good := mergetest.Write(t, filepath.Join(root, "good"), mergetest.Options{})
	mutate := func(name string, seg int, f func(*mergetest.Run)) []string {
		_, dirs := mergetest.Write(t, filepath.Join(root, name), mergetest.Options{Mutate: func(k int, run *mergetest.Run) {
			if k == seg {
				p := *run.Profile
				run.Profile = &p
				f(run)
			}
		}})
		return dirs
	}
	renamed := mutate("renamed", 1, func(r *mergetest.Run) { r.Profile.Name = "other" })
	edited := mutate("edited", 1, func(r *mergetest.Run) { r.Profile.SHA256 = "0123456789abcdef" })
	overridden := mutate("overridden", 1, func(r *mergetest.Run) { r.Profile.Overrides = []string{"seed=3"} })
	reseeded := mutate("reseeded", 2, func(r *mergetest.Run) { r.Profile.Seed = 9 })
	_, fours := mergetest.Write(t, filepath.Join(root, "fours"), mergetest.Options{Segments: 4})
	later := mutate("later", 1, func(r *mergetest.Run) { r.Segment.StartAt = r.Segment.StartAt.Add(time.Second) })
	_, again := mergetest.Write(t, filepath.Join(root, "again"), mergetest.Options{})
	twoChaos := mutate("two-chaos", 2, func(r *mergetest.Run) { r.Segment.Chaos = true })
	otherEvent := mutate("other-event", 1, func(r *mergetest.Run) { r.Results.Events[0].Node = 2 })
	normal := filepath.Join(root, "normal")
	if _, err := report.Write(normal, mergetest.Profile(t), &results.Run{Results: &stats.Results{Started: mergetest.Start, Elapsed: time.Second}}); err != nil {
		t.Fatal(err)
	}
	damaged := mutate("damaged", 2, func(*mergetest.Run) {})
	if err := os.WriteFile(filepath.Join(damaged[2], results.SegmentFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	noDir := filepath.Join(root, "nope")
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	merge := func(dirs ...string) []string { return append([]string{"merge", "--out", out}, dirs...) }

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no directories", []string{"merge", "--out", out}, exitUsage, []string{"name the results directories of a split run's segments"}},
		{"no --out", []string{"merge", good[0], good[1], good[2]}, exitUsage, []string{"--out DIR is missing"}},
		{"--out is a segment", []string{"merge", good[0], good[1], good[2], "--out", good[1] + "/"}, exitUsage, []string{"--out " + good[1], "is one of the segments' directories", "choose another directory"}},
		{"different profiles", merge(good[0], renamed[1], good[2]), exitUsage, []string{good[0] + " and " + renamed[1] + " are segments of different profiles", "merge the segments of one run"}},
		{"edited profile", merge(good[0], edited[1], good[2]), exitUsage, []string{"two versions of profile \"default\""}},
		{"different overrides", merge(good[0], overridden[1], good[2]), exitUsage, []string{"different --set overrides"}},
		{"different seeds", merge(good[0], good[1], reseeded[2]), exitUsage, []string{reseeded[2] + " ran with different seeds (1 and 9)"}},
		{"different split", merge(good[0], good[1], fours[2], fours[3]), exitUsage, []string{"segment 0/3 but " + fours[2] + " is segment 2/4"}},
		{"different start", merge(good[0], later[1], good[2]), exitUsage, []string{"different --start-at times"}},
		{"missing segment", merge(good[2], good[0]), exitUsage, []string{"segment 1 is missing of the run's 3 (0..2): name the results directories of all 3 segments"}},
		{"segment twice", merge(good[0], good[1], good[2], again[2]), exitUsage, []string{"segment 2/3 is given twice, " + good[2] + " and " + again[2]}},
		{"two drove the chaos", merge(twoChaos...), exitUsage, []string{"both drove the chaos"}},
		{"events differ", merge(good[0], otherEvent[1], good[2]), exitUsage, []string{"event 0 is rolling_restart 1012 on node 0 in " + good[0] + " but rolling_restart 1012 on node 2 in " + otherEvent[1]}},
		{"a normal run", merge(good[0], good[1], normal), exitUsage, []string{normal + " is not a segment's results", "a normal run's", "--segment I/N"}},
		{"missing directory", merge(good[0], good[1], noDir), exitUsage, []string{noDir + ": no such file or directory"}},
		{"damaged segment.json", merge(good[0], good[1], damaged[2]), exitUsage, []string{filepath.Join(damaged[2], results.SegmentFile) + ": unexpected end of JSON input", "run the segment again"}},
		{"results cannot be written", []string{"merge", good[0], good[1], good[2], "--out", filepath.Join(file, "out")}, exitCannotRun, []string{"cannot write results to " + filepath.Join(file, "out"), "not a directory", "choose another directory with --out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := wsstorm(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if !strings.HasPrefix(stderr, "wsstorm merge: ") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line of wsstorm merge:\n%s", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused merge created %s", out)
	}
}

// TestMergeCmdStartSpread checks segments started apart without
// --start-at: a warning when they are close enough to be one run, a
// refusal (exit 2) when they are further apart than 10% of the profile's
// duration (at least 1s).
func TestMergeCmdStartSpread(t *testing.T) {
	root := t.TempDir()
	p := mergetest.Profile(t)
	p.Duration.Duration = 30 * time.Second
	apart := func(name string, step time.Duration) []string {
		_, segs := mergetest.Write(t, filepath.Join(root, name), mergetest.Options{Profile: p, Mutate: func(k int, r *mergetest.Run) {
			r.Segment.StartAt = time.Time{}
			r.Results.Started = r.Results.Started.Add(time.Duration(k) * step)
		}})
		return segs
	}
	segs := apart("close", 800*time.Millisecond)
	code, _, stderr := wsstorm(t, append([]string{"merge", "--out", filepath.Join(root, "merged-close")}, segs...)...)
	if code != exitFailed || !strings.Contains(stderr, "wsstorm merge: warning: the segments started 1.6s apart; give them one --start-at") {
		t.Errorf("1.6s apart in a 30s run: exit %d, want %d with a warning\n%s", code, exitFailed, stderr)
	}
	segs = apart("far", 11500*time.Millisecond)
	out := filepath.Join(root, "merged-far")
	code, _, stderr = wsstorm(t, append([]string{"merge", "--out", out}, segs...)...)
	want := "wsstorm merge: " + segs[0] + " and " + segs[2] + " started 23.0s apart, more than the 3s that segments of one 30s run may be"
	if code != exitUsage || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("23s apart: exit %d, want %d with\n%s\ngot\n%s", code, exitUsage, want, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused merge created %s", out)
	}
}
