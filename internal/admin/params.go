package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsstorm/wsstorm/internal/action"
)

const (
	// maxBody bounds a request body: parameters take a few dozen bytes.
	maxBody = 64 << 10
	// maxWait bounds drain and downtime, so a typo cannot hold a node down
	// for hours.
	maxWait = 10 * time.Minute
	// maxRefusal bounds a refusal's for, a restart's drain plus its
	// downtime: each has been bounded by maxWait over this API, so their
	// sum by twice that.
	maxRefusal = 2 * maxWait
	// maxLease bounds a freeze's for: a profile's freeze step may last as
	// long as a run (at most 24 h), and a lease thaws the node on its own
	// even when nobody comes back.
	maxLease = 24 * time.Hour
	// maxReason is the longest close reason that fits a close frame.
	maxReason = 123
)

// Defaults of a restart: what the chaos steps of a profile default to.
const (
	defaultRestartCode = 1012 // Service Restart
	defaultDowntime    = 2 * time.Second
	defaultCloseCode   = 1000 // Normal Closure
)

var (
	restartParams = []string{"code", "drain", "downtime", "reason", "wait"}
	closeParams   = []string{"fraction", "code", "reason", "seed"}
)

// readParams collects a request's parameters from its query and its body (a
// form, or a JSON object of strings, numbers and booleans). Each parameter
// must be one of known and given once.
func readParams(r *http.Request, known []string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("the query is malformed: %w; write e.g. ?%s=...", err, known[0])
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w; send at most %d KiB", err, maxBody>>10)
	}
	if body = bytes.TrimSpace(body); len(body) > 0 {
		var b url.Values
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		// curl -d '{...}' sends JSON labelled as a form.
		if mt == "application/json" || body[0] == '{' {
			b, err = jsonParams(body)
		} else {
			b, err = url.ParseQuery(string(body))
			if err != nil {
				err = fmt.Errorf("the body is not a form (%w); send key=value&... or a JSON object with Content-Type: application/json", err)
			}
		}
		if err != nil {
			return nil, err
		}
		for k, vs := range b {
			q[k] = append(q[k], vs...)
		}
	}
	for k, vs := range q {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("unknown parameter %q: use %s", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, fmt.Errorf("parameter %q is given %d times: give it once", k, len(vs))
		}
	}
	return q, nil
}

// jsonParams reads a JSON object body into parameters.
func jsonParams(body []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the body holds more than one JSON value: send one object")
	}
	v := url.Values{}
	for k, x := range m {
		switch x := x.(type) {
		case string:
			v.Set(k, x)
		case json.Number:
			v.Set(k, x.String())
		case bool:
			v.Set(k, strconv.FormatBool(x))
		default:
			return nil, fmt.Errorf("parameter %q: want a string, a number or true/false", k)
		}
	}
	return v, nil
}

// parseRestart reads a restart's parameters: code (default 1012), drain
// (0s), downtime (2s), reason, wait (true).
func parseRestart(q url.Values) (spec action.RestartParams, wait bool, err error) {
	spec.Downtime = defaultDowntime
	wait = true
	if spec.Code, err = closeCode(q, defaultRestartCode); err != nil {
		return spec, false, err
	}
	if spec.Reason, err = reason(q); err != nil {
		return spec, false, err
	}
	if spec.Drain, err = duration(q, "drain", 0); err != nil {
		return spec, false, err
	}
	if spec.Downtime, err = duration(q, "downtime", defaultDowntime); err != nil {
		return spec, false, err
	}
	if s := q.Get("wait"); s != "" {
		if wait, err = strconv.ParseBool(s); err != nil {
			return spec, false, fmt.Errorf("wait %q is not true or false", s)
		}
	}
	return spec, wait, nil
}

// parseClose reads a close's parameters: fraction (required), code (default
// 1000), reason, seed (default: from newSeed).
func parseClose(q url.Values, newSeed func() uint64) (spec action.CloseParams, seed uint64, err error) {
	s := q.Get("fraction")
	if s == "" {
		return spec, 0, errors.New("fraction is missing: e.g. fraction=0.1 closes 10% of the connections")
	}
	if spec.Fraction, err = fraction(s); err != nil {
		return spec, 0, err
	}
	if spec.Code, err = closeCode(q, defaultCloseCode); err != nil {
		return spec, 0, err
	}
	if spec.Reason, err = reason(q); err != nil {
		return spec, 0, err
	}
	seed, err = seedParam(q, newSeed)
	return spec, seed, err
}

// fraction reads a share in (0, 1].
func fraction(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 1 {
		return 0, fmt.Errorf("fraction %q is not a share in (0, 1]: e.g. 0.1 closes 10%%, 1 closes all", s)
	}
	return f, nil
}

// seedParam reads the seed parameter, or picks one with newSeed.
func seedParam(q url.Values, newSeed func() uint64) (uint64, error) {
	s := q.Get("seed")
	if s == "" {
		return newSeed(), nil
	}
	seed, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("seed %q is not a whole number from 0 to %d", s, uint64(math.MaxUint64))
	}
	return seed, nil
}

// closeCode reads the code parameter: one a server may send in a close
// frame.
func closeCode(q url.Values, def int) (int, error) {
	s := q.Get("code")
	if s == "" {
		return def, nil
	}
	code, err := strconv.Atoi(s)
	if err != nil || action.CodeProblem(code) != "" {
		return 0, fmt.Errorf("code %q cannot be sent in a close frame: use 1000-1003, 1007-1014 or 3000-4999 (1012: service restart, 1000: normal closure)", s)
	}
	return code, nil
}

// reason reads the reason parameter: UTF-8 that fits a close frame.
func reason(q url.Values) (string, error) {
	s := q.Get("reason")
	if len(s) > maxReason {
		return "", fmt.Errorf("reason is %d bytes: a close frame holds at most %d", len(s), maxReason)
	}
	if !utf8.ValidString(s) {
		return "", errors.New("reason is not valid UTF-8, which a close frame requires")
	}
	return s, nil
}

// duration reads a duration parameter in [0, maxWait].
func duration(q url.Values, name string, def time.Duration) (time.Duration, error) {
	return durationUpTo(q, name, def, maxWait)
}

// durationUpTo reads a duration parameter in [0, most].
func durationUpTo(q url.Values, name string, def, most time.Duration) (time.Duration, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration: write e.g. 500ms, 2s or 1m", name, s)
	}
	if d < 0 || d > most {
		return 0, fmt.Errorf("%s %s is out of range: use 0s to %s", name, s, most)
	}
	return d, nil
}
