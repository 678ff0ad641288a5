package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/wsstorm/wsstorm/"

// layers are ARCHITECTURE.md's layers, lowest first: a package imports
// only packages of lower layers.
var layers = [][]string{
	// engine, the leaves
	{"internal/stats", "internal/backoff", "internal/tmpl", "internal/nodes", "internal/action",
		"internal/dialabort", "internal/httpserve", "internal/lines", "internal/uplot", "internal/optstruct", "profiles"},
	{"internal/results", "internal/protocol", "internal/clientlib"},
	// engine
	{"internal/profile"},
	{"internal/fleet", "internal/target", "internal/chaos"},
	// adapters
	{"internal/proxy", "internal/hooks", "internal/admin"},
	// orchestration
	{"internal/storm", "internal/simulate", "internal/merge", "internal/standalone"},
	{"internal/sweep", "internal/supervise"},
	// output
	{"internal/report", "internal/live"},
	// the CLI, and the scripts that read results for the docs
	{"cmd/wsstorm", "scripts/clientstudy"},
}

// runsStorms are the packages that may import internal/storm: the CLI and
// the orchestration that runs storms.
var runsStorms = []string{"cmd/wsstorm", "internal/sweep", "internal/supervise"}

// TestLayers checks every package's non-test imports against the layers,
// and that every package has a layer (a new one must be placed, in
// ARCHITECTURE.md and here). Test-support packages (mergetest,
// resultstest, protocoltest, realtest) and test files may import what the
// tests need.
func TestLayers(t *testing.T) {
	root := filepath.Join("..", "..")
	layer := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layer[p] = i
		}
	}
	for pkg, imports := range packages(t, root) {
		if testSupport(pkg) || pkg == "internal/arch" {
			continue
		}
		own, ok := layer[pkg]
		if !ok {
			t.Errorf("%s has no layer: place it in ARCHITECTURE.md and in this test's layers", pkg)
			continue
		}
		for _, imp := range imports {
			switch l, ok := layer[imp]; {
			case testSupport(imp):
				t.Errorf("%s imports the test-support package %s: only tests may", pkg, imp)
			case !ok:
			case l >= own:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports go downward only", pkg, own, imp, l)
			case imp == "internal/storm" && !slices.Contains(runsStorms, pkg):
				t.Errorf("%s imports internal/storm: only the CLI and the orchestration that runs storms may", pkg)
			}
		}
	}
}

// packages returns the module's packages under root, by path from the
// module's root, with the module's packages their non-test files import.
func packages(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "deploy") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok && !slices.Contains(out[pkg], rest) {
				out[pkg] = append(out[pkg], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testSupport reports whether pkg is a package of test fixtures, which
// only tests import: its name is its parent's and "test" (resultstest).
func testSupport(pkg string) bool {
	parent, name := path.Split(pkg)
	return name == path.Base(parent)+"test"
}
