package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// versionCmd prints the version of this program and of Go it was built with.
func versionCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "wsstorm version", stderr)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("wsstorm version: takes no arguments, got %v", fs.Args())
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(version, bi, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH))
	return nil
}

// versionLine is what `wsstorm version` prints, e.g.
// "wsstorm v0.1.0 (commit 0123456789ab+dirty 2026-01-02T03:04:05Z, go1.26.0, linux/amd64)".
// The version is set's (-ldflags -X main.version) if given, else the module
// version bi records (what `go install ...@v0.1.0` built), else "devel". The
// commit, from a build in a git checkout, tells two devel builds apart;
// "+dirty" says the tree had changes the commit lacks. bi may be nil.
func versionLine(set string, bi *debug.BuildInfo, goVersion, platform string) string {
	v := set
	if v == "" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	about := []string{goVersion, platform}
	if c := vcsCommit(bi); c != "" {
		about = append([]string{c}, about...)
	}
	return fmt.Sprintf("wsstorm %s (%s)", v, strings.Join(about, ", "))
}

// vcsCommit describes the commit bi was built from: "commit", its first
// 12 hex digits, "+dirty" if the tree was modified, and the commit's time;
// "" if Go recorded none (go install, go test, a tree without git).
func vcsCommit(bi *debug.BuildInfo) string {
	if bi == nil {
		return ""
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	rev := vcs["vcs.revision"]
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if vcs["vcs.modified"] == "true" {
		rev += "+dirty"
	}
	if t := vcs["vcs.time"]; t != "" {
		rev += " " + t
	}
	return "commit " + rev
}
