// Command clientstudy makes the table and the chart of
// docs/client-libraries.md from the study's results directories, so that
// every figure there is copied from a summary.json rather than typed:
//
//	go run ./scripts/clientstudy [-svg docs/img/client-libraries-reconnect.svg] \
//	    'socket.io-client@4=results/study/real10k-sio,results/study/sim10k-sio,results/study/sim1m-sio' ...
//
// Each argument is LIBRARY=DIR[,DIR...]: the results of one library's runs
// (in the study: real at 10,000 clients, simulated at 10,000, simulated at
// 1,000,000), one cell per directory in each column. It prints one markdown
// row per library, and under the table the note on the ‡ mark when a cell
// has it; with -svg it also draws, from each library's first directory, the
// share of a restarted node's clients back against the time since its
// restart.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "clientstudy: %v\n", err)
		os.Exit(2)
	}
}

// library is one row: a library's name and its runs' results, in the
// order given.
type library struct {
	name string
	sets []*results.ResultSet
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("clientstudy", flag.ContinueOnError)
	svgPath := fs.String("svg", "", "write the reconnect curves of each library's first results to `FILE`")
	title := fs.String("title", "Clients back after their node's 1012 restart", "the chart's title")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no LIBRARY=DIR[,DIR...] given")
	}
	libs := make([]library, 0, fs.NArg())
	for _, a := range fs.Args() {
		lib, err := readLibrary(a)
		if err != nil {
			return err
		}
		libs = append(libs, lib)
	}
	if err := writeTable(stdout, libs); err != nil {
		return err
	}
	if *svgPath == "" {
		return nil
	}
	curves := make([]curve, len(libs))
	for i, lib := range libs {
		c, err := recoveryCurve(lib.sets[0])
		if err != nil {
			return fmt.Errorf("%s: %w", lib.name, err)
		}
		c.name = lib.name
		curves[i] = c
	}
	f, err := os.Create(*svgPath)
	if err != nil {
		return err
	}
	if err := writeSVG(f, *title, curves); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readLibrary reads the results of LIBRARY=DIR[,DIR...].
func readLibrary(arg string) (library, error) {
	name, dirs, ok := strings.Cut(arg, "=")
	if !ok || name == "" || dirs == "" {
		return library{}, fmt.Errorf("%q: want LIBRARY=DIR[,DIR...]", arg)
	}
	lib := library{name: name}
	for _, dir := range strings.Split(dirs, ",") {
		rs, err := results.ReadResultSet(dir)
		if err != nil {
			return library{}, err
		}
		lib.sets = append(lib.sets, rs)
	}
	return lib, nil
}
