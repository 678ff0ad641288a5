// Package lines holds the writers wsstorm's logs go through. A log is
// written a line per Write; these writers keep it that way: a prefix goes
// out with its line in one Write, a profile's secrets are redacted from
// each line, and the lines of several goroutines stay whole.
package lines

import (
	"io"
	"sync"
)

// Prefixed returns a writer that writes prefix and each line to w in one
// Write, so that prefixes nest ("wsstorm: " over "[setting run 1] ") and a
// line stays whole on a Locked writer below.
func Prefixed(w io.Writer, prefix string) io.Writer { return &prefixed{w: w, prefix: prefix} }

type prefixed struct {
	w      io.Writer
	prefix string
}

func (p *prefixed) Write(b []byte) (int, error) {
	line := make([]byte, 0, len(p.prefix)+len(b))
	line = append(append(line, p.prefix...), b...)
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Redacted returns a writer that passes each line through redact (a
// profile's Redact) before it reaches w: secrets from the environment must
// not reach a log, even inside an error's text (a URL in a dial error).
func Redacted(w io.Writer, redact func(string) string) io.Writer {
	return &redacted{w: w, redact: redact}
}

type redacted struct {
	w      io.Writer
	redact func(string) string
}

func (r *redacted) Write(b []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.redact(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Locked returns a writer that lets one goroutine write to w at a time, so
// that the lines of several (a split run's processes) do not interleave.
func Locked(w io.Writer) io.Writer { return &locked{w: w} }

type locked struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *locked) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
