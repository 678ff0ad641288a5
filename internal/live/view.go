package live

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Default intervals of a View.
const (
	TerminalInterval = time.Second     // redraw in place
	PlainInterval    = 5 * time.Second // one line in a log
)

// ANSI sequences: clear the whole line, move the cursor one line up.
const (
	clearLine = "\x1b[2K"
	lineUp    = "\x1b[1A"
)

// Source is what a View reads; *stats.Recorder is one.
type Source interface {
	Snapshot() stats.Snapshot
	Plan() []stats.EventPlan
}

// ViewOptions say where and how a View shows the status.
type ViewOptions struct {
	Out io.Writer
	// Terminal: redraw the status in place; else write a plain line each
	// interval (for logs).
	Terminal bool
	// Width returns the terminal's width in columns; lines are broken (see
	// wrap) to fit so the terminal never wraps them (a line it wrapped could
	// not be cleared). nil or 0: no limit.
	Width    func() int
	Interval time.Duration // 0: TerminalInterval or PlainInterval
	Prefix   string        // put before every line, e.g. "wsstorm: "
	Clients  int           // the fleet's size
	Duration time.Duration // the run's planned length
}

// View shows a run's status while it goes on. Its methods are safe for
// concurrent use.
type View struct {
	opts ViewOptions

	mu      sync.Mutex
	lines   []string // the status a terminal shows; nil: none
	shown   int      // terminal lines drawn now (more than lines when wrapped)
	partial bool     // a log line was written without its newline yet
}

// NewView returns a View for opts.
func NewView(opts ViewOptions) *View {
	if opts.Interval <= 0 {
		opts.Interval = PlainInterval
		if opts.Terminal {
			opts.Interval = TerminalInterval
		}
	}
	return &View{opts: opts}
}

// Run shows src's status every interval until ctx ends; then, on a terminal,
// it clears the status so what follows prints on a clean line.
func (v *View) Run(ctx context.Context, src Source) {
	st := Status{Clients: v.opts.Clients, Duration: v.opts.Duration, Plan: src.Plan()}
	v.run(ctx, func() ([]string, string) {
		f := st.Next(src.Snapshot())
		return f.TerminalLines(), f.PlainLine()
	})
}

// RunNodes shows a server's nodes, as status returns them, every interval
// until ctx ends (wsstorm serve); then, on a terminal, it clears them.
func (v *View) RunNodes(ctx context.Context, status func() []nodes.Status) {
	start := time.Now()
	var st Nodes
	v.run(ctx, func() ([]string, string) {
		f := st.Next(time.Since(start), status())
		return f.TerminalLines(), f.PlainLine()
	})
}

// run shows what next returns, the lines of a terminal and the line of a
// log, every interval until ctx ends; then it clears the status.
func (v *View) run(ctx context.Context, next func() (terminal []string, plain string)) {
	tick := time.NewTicker(v.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			v.mu.Lock()
			v.clearLocked()
			v.lines = nil
			v.mu.Unlock()
			return
		case <-tick.C:
			terminal, plain := next()
			// A snapshot taken as the run ends may show the clients
			// leaving, which is not what the run measured.
			if ctx.Err() == nil {
				v.showLines(terminal, plain)
			}
		}
	}
}

// show shows a run's frame.
func (v *View) show(f Frame) { v.showLines(f.TerminalLines(), f.PlainLine()) }

// showLines draws terminal on a terminal, in place of what it drew last,
// or writes plain as a line of a log.
func (v *View) showLines(terminal []string, plain string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.opts.Terminal {
		io.WriteString(v.opts.Out, v.opts.Prefix+plain+"\n")
		return
	}
	v.clearLocked()
	v.lines = terminal
	v.drawLocked()
}

// clearLocked erases the status drawn, leaving the cursor at the start of
// its first line.
func (v *View) clearLocked() {
	if v.shown == 0 {
		return
	}
	s := "\r" + clearLine + strings.Repeat(lineUp+clearLine, v.shown-1)
	io.WriteString(v.opts.Out, s)
	v.shown = 0
}

// drawLocked draws the status, each line wrapped to the terminal's width;
// the cursor stays at the end of the last line.
func (v *View) drawLocked() {
	if len(v.lines) == 0 || v.partial {
		return
	}
	width := 0
	if v.opts.Width != nil {
		width = v.opts.Width()
	}
	var out []string
	for _, l := range v.lines {
		out = append(out, wrap(v.opts.Prefix, l, width)...)
	}
	io.WriteString(v.opts.Out, strings.Join(out, "\n"))
	v.shown = len(out)
}

// wrap breaks prefix+s into lines of fewer than width columns (the last
// column would wrap on some terminals), each after the first starting with
// prefix and two spaces. It breaks between fields (two spaces apart) where
// it can, within a field too long for a line between words, and cuts a word
// too long for a line. Width 0 or less: one line, whole.
func wrap(prefix, s string, width int) []string {
	if width <= 1 || utf8.RuneCountInString(prefix+s) < width {
		return []string{prefix + s}
	}
	var lines []string
	cur, empty := prefix, true // empty: cur holds only its prefix
	put := func(sep, text string) {
		switch {
		case empty:
			cur += text
		case utf8.RuneCountInString(cur+sep+text) < width:
			cur += sep + text
		default:
			lines = append(lines, fit(cur, width))
			cur = prefix + "  " + text
		}
		empty = false
	}
	for _, field := range strings.Split(s, "  ") {
		if utf8.RuneCountInString(prefix+"  "+field) < width {
			put("  ", field)
			continue
		}
		// Too long for any line: its words, the first on a line of its own.
		for i, word := range strings.Split(field, " ") {
			if i == 0 && !empty {
				lines = append(lines, fit(cur, width))
				cur = prefix + "  " + word
				continue
			}
			put(" ", word)
		}
	}
	return append(lines, fit(cur, width))
}

// fit cuts s to width-1 columns (the last column would wrap on some
// terminals); width 0 or less: no cut.
func fit(s string, width int) string {
	if width <= 1 || utf8.RuneCountInString(s) < width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1])
}

// LogWriter returns a writer for log lines that go to the same place as the
// status: on a terminal, each write clears the status, writes, and draws the
// status again below it, so neither mangles the other. Each write should
// be whole lines.
func (v *View) LogWriter(w io.Writer) io.Writer { return &logWriter{v: v, w: w} }

type logWriter struct {
	v *View
	w io.Writer
}

func (l *logWriter) Write(b []byte) (int, error) {
	v := l.v
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.opts.Terminal {
		return l.w.Write(b)
	}
	v.clearLocked()
	n, err := l.w.Write(b)
	v.partial = len(b) > 0 && b[len(b)-1] != '\n'
	v.drawLocked()
	return n, err
}

// Terminal reports whether w is a terminal that can redraw a status in
// place (not with TERM=dumb) and, if so, returns its width in columns.
func Terminal(w io.Writer) (width func() int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil, false
	}
	return func() int {
		cols, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return cols
	}, true
}
