package report

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/uplot"
)

//go:embed assets/report.html.tmpl assets/report.css assets/report.js
var assets embed.FS

// pageTemplate parses the page's template. It is parsed for each page
// rather than kept in a package variable, which would be package-level
// state; parsing is cheap next to reading a run's files.
func pageTemplate() (*template.Template, error) {
	return template.New("report.html.tmpl").ParseFS(assets, "assets/report.html.tmpl")
}

// WriteHTML writes the results rs as one HTML page that needs nothing else:
// the charting library (uPlot), its styles and the data are inline, and the
// page fetches nothing. It shows the verdict and thresholds, connected
// clients over time with the chaos events marked, the connect herd per
// second (made and intended), the reconnect and recovery latency
// percentiles, one recovery curve per chaos event, the latency, event,
// reconnect-breakdown, counter and target tables and the profile used.
// Simulated results say so under the headline, and so does a run its load
// generator shaped. A chart with nothing to draw is replaced by a short note.
func WriteHTML(w io.Writer, rs *results.ResultSet) error {
	page, err := newPage(rs)
	if err != nil {
		return err
	}
	t, err := pageTemplate()
	if err != nil {
		return fmt.Errorf("report: page template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, page); err != nil {
		return fmt.Errorf("report: render the HTML page: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// htmlPage is what the template renders. Numbers are formatted here, so the
// template only places them.
type htmlPage struct {
	Title        string
	Name         string
	Verdict      string
	VerdictClass string // pass, fail, interrupted
	Facts        []fact
	Overrides    []string // as flags: "--set key=value", "--scale F"
	Insecure     bool
	// Simulated says what simulated results are; "" for a real run.
	Simulated string
	// Generator is the warning of a run its load generator shaped
	// (GeneratorWarning); "" when it did not.
	Generator string

	Thresholds []thresholdRow
	Charts     []chartSection
	Latency    []latencyRow
	Events     []eventRow
	Breakdown  []breakdownRow // the mean reconnect taken apart, of the run and of each event
	Hooks      []hookRow      // the restart hooks' runs (external targets)
	Observe    string         // how observe mode found the events; "" for a planned run
	Counters   []fact
	Target     *targetTable

	ProfileTOML string
	ProfileRef  []fact

	LibraryCSS template.CSS
	PageCSS    template.CSS
	LibraryJS  template.JS
	PageJS     template.JS
	// Data is the charts' data as JSON. json.Marshal escapes '<', '>' and
	// '&', so no string in it (a profile name, a threshold) can end the
	// script element it sits in.
	Data template.JS
}

type fact struct{ Label, Value string }

type thresholdRow struct {
	OK             bool
	Expr, Measured string
}

type latencyRow struct {
	Metric string
	Cells  []string // count, min, mean, p50, p90, p99, p99.9, max
}

type eventRow struct {
	Cells []cell
	Never bool // some clients that were expected back never came, or the event failed
}

// cell is one table cell and its class: "num" for a number, "limited" for
// a dial lag past its bound, "" for text.
type cell struct{ Text, Class string }

// breakdownRow is one mean reconnect taken apart: what it belongs to, how
// many reconnects it covers, then backoff, dial lag, failed attempts,
// handshake and their sum, in ms.
type breakdownRow struct {
	What  string
	Cells []string
}

// hookRow is one restart hook's run.
type hookRow struct {
	Event, Node, Name, What, Status, Duration, Verdict, Output string
	Failed                                                     bool
}

type targetTable struct {
	Nodes        []results.NodeSide
	ImbalanceEnd string
}

// newPage assembles the page from the result set.
func newPage(rs *results.ResultSet) (*htmlPage, error) {
	s := rs.Summary
	p := pageHead(s)
	p.ProfileTOML = rs.ProfileTOML
	p.Thresholds = thresholdRows(s)
	p.Latency = latencyRows(s)
	p.Events, p.Hooks = eventRows(s)
	p.Breakdown = breakdownRows(s)
	if s.Detect != nil {
		p.Observe = detectText(s.Detect)
	}
	p.Counters = counterFacts(s)
	if t := s.Target; t != nil {
		p.Target = &targetTable{Nodes: t.Nodes, ImbalanceEnd: optional(t.ImbalanceEnd, 2, "")}
	}
	if err := p.drawCharts(newChartSource(rs)); err != nil {
		return nil, err
	}
	if err := p.inlineAssets(); err != nil {
		return nil, err
	}
	return p, nil
}

// pageHead is the page's title, verdict, headline facts and the profile's
// identity.
func pageHead(s *results.Summary) *htmlPage {
	name := profileName(s)
	p := &htmlPage{
		Title:     "wsstorm: " + name + " — " + verdict(s),
		Name:      name,
		Verdict:   verdict(s),
		Overrides: overrideFlags(s.Profile),
		Insecure:  s.InsecureSkipVerify,
	}
	if s.Simulated != nil {
		p.Title += " (simulated)"
		p.Simulated = simulatedText(s.Simulated, plain)
	}
	p.Generator = GeneratorWarning(s)
	switch {
	case s.Interrupted:
		p.VerdictClass = "interrupted"
	case s.Passed:
		p.VerdictClass = "pass"
	default:
		p.VerdictClass = "fail"
	}
	p.Facts = []fact{
		{"started", startedText(s)},
		{"duration", fmt.Sprintf("%.1f s", s.DurationS)},
		{"clients", strconv.Itoa(s.Clients)},
		{"peak connected", strconv.FormatInt(s.PeakConnected, 10)},
		{"reconnects", strconv.FormatInt(s.Counters.Reconnects, 10)},
		{"connect failures", strconv.FormatInt(sumCounts(s.Counters.ConnectFailures), 10)},
		{"seed", strconv.FormatUint(s.Seed, 10)},
	}
	p.ProfileRef = []fact{{"name", name}, {"file", orDash(s.Profile.Path)}, {"sha256", orDash(s.Profile.SHA256)}}
	return p
}

func thresholdRows(s *results.Summary) []thresholdRow {
	var rows []thresholdRow
	for _, t := range s.Thresholds {
		rows = append(rows, thresholdRow{OK: t.OK, Expr: t.Expr, Measured: thresholdValue(t)})
	}
	return rows
}

func latencyRows(s *results.Summary) []latencyRow {
	var rows []latencyRow
	for _, m := range stats.Metrics {
		l := s.LatencyMS.Of(m)
		rows = append(rows, latencyRow{Metric: m.String(), Cells: []string{
			strconv.FormatInt(l.Count, 10), optional(l.Min, 2, ""), optional(l.Mean, 2, ""), optional(l.P50, 2, ""),
			optional(l.P90, 2, ""), optional(l.P99, 2, ""), optional(l.P999, 2, ""), optional(l.Max, 2, ""),
		}})
	}
	return rows
}

// eventRows are the chaos events' table and their restart hooks' runs.
func eventRows(s *results.Summary) (events []eventRow, hooks []hookRow) {
	for i := range s.Events {
		e := &s.Events[i]
		expected := "no"
		if e.ReconnectExpected {
			expected = "yes"
		}
		failed := "-"
		if len(e.FailedAttempts) > 0 {
			failed = countsText(e.FailedAttempts)
		}
		if h := e.Hook; h != nil {
			hooks = append(hooks, hookRowOf(e.Index, h))
		}
		n := func(text string) cell { return cell{text, "num"} }
		t := func(text string) cell { return cell{text, ""} }
		events = append(events, eventRow{
			Never: e.ReconnectExpected && e.NeverReconnected > 0 || e.Failed,
			Cells: []cell{
				n("#" + strconv.Itoa(e.Index)), n(fmt.Sprintf("%.1f s", e.AtS)), t(eventWhat(e)), n(strconv.Itoa(e.Code)), t(expected),
				n(affectedText(e)), n(strconv.FormatInt(e.Reconnected, 10)), n(neverText(e)),
				n(optional(e.T50S, 2, " s")), n(optional(e.T90S, 2, " s")), n(optional(e.T99S, 2, " s")), n(optional(e.T100S, 2, " s")),
				n(fmt.Sprintf("%.0f", e.PeakAttemptRate)), n(intendedText(e)), dialLagCell(e), n(herdText(e)),
				n(strconv.FormatFloat(e.AttemptsPerClient, 'f', 2, 64)), t(failed), n(optional(e.ImbalanceAfter, 2, "")),
				n(noticedText(e)),
			},
		})
	}
	return events, hooks
}

// intendedText is an event's intended peak attempt rate, "-" when its
// clients meant no attempt or its results predate the figure.
func intendedText(e *results.EventSummary) string {
	if e.FirstAttempts == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", e.IntendedPeakAttemptRate)
}

// dialLagCell is an event's dial lag p99 against its bound, marked when it
// passed it: "9.50 ms (bound 247.50)".
func dialLagCell(e *results.EventSummary) cell {
	d := e.DialLagMS
	if d == nil || d.P99 == nil {
		return cell{"-", "num"}
	}
	text := fmt.Sprintf("%.2f ms (bound %.2f)", *d.P99, e.DialLagBoundMS)
	if e.GeneratorLimited {
		return cell{text + " " + limitedText(e), "num limited"}
	}
	return cell{text, "num"}
}

// breakdownRows take apart the mean reconnect of the run, then of each
// event that had reconnects; none for results that predate the breakdown.
func breakdownRows(s *results.Summary) []breakdownRow {
	row := func(what string, b *results.BreakdownSummary) breakdownRow {
		sum := b.BackoffMS + b.DialLagMS + b.FailedAttemptsMS + b.HandshakeMS
		return breakdownRow{What: what, Cells: []string{
			strconv.FormatInt(b.Reconnects, 10), fmtMS(b.BackoffMS), fmtMS(b.DialLagMS), fmtMS(b.FailedAttemptsMS), fmtMS(b.HandshakeMS), fmtMS(sum),
		}}
	}
	var rows []breakdownRow
	if b := &s.ReconnectBreakdown; b.Reconnects > 0 {
		rows = append(rows, row("the run", b))
	}
	for i := range s.Events {
		e := &s.Events[i]
		if b := &e.ReconnectBreakdown; b.Reconnects > 0 {
			rows = append(rows, row("#"+strconv.Itoa(e.Index)+" "+eventWhat(e), b))
		}
	}
	return rows
}

// affectedText is an event's affected clients, "28 of 30 frozen" for a
// freeze.
func affectedText(e *results.EventSummary) string {
	if e.Frozen > 0 {
		return fmt.Sprintf("%d of %d frozen", e.Affected, e.Frozen)
	}
	return strconv.FormatInt(e.Affected, 10)
}

func counterFacts(s *results.Summary) []fact {
	c := &s.Counters
	return []fact{
		{"connect attempts", strconv.FormatInt(c.ConnectAttempts, 10)},
		{"connects", strconv.FormatInt(c.Connects, 10)},
		{"connect failures", countsText(c.ConnectFailures)},
		{"closes by code", countsText(c.Closes)},
		{"client closes", strconv.FormatInt(c.ClientCloses, 10)},
		{"reconnects", strconv.FormatInt(c.Reconnects, 10)},
		{"gave up", strconv.FormatInt(c.GaveUp, 10)},
		{"messages sent", strconv.FormatInt(c.MessagesSent, 10)},
		{"messages received", strconv.FormatInt(c.MessagesReceived, 10)},
		{"peak connected", strconv.FormatInt(s.PeakConnected, 10)},
		{"ended by the protocol", cmp.Or(protocolText(c), "none")},
	}
}

// drawCharts places each chart, or the note that replaces it, and the
// charts' data.
func (p *htmlPage) drawCharts(r *chartSource) error {
	var charts []chartData
	add := func(sec chartSection, c *chartData) {
		if c != nil {
			sec.Drawn = true
			charts = append(charts, *c)
		}
		p.Charts = append(p.Charts, sec)
	}
	add(r.connectedChart())
	add(r.herdChart())
	add(r.latencyChart())
	add(r.recoveryChart())

	data, err := json.Marshal(struct {
		Charts []chartData `json:"charts"`
	}{charts})
	if err != nil {
		return fmt.Errorf("report: encode the charts' data: %w", err)
	}
	p.Data = template.JS(data)
	return nil
}

// inlineAssets places the charting library and the page's own styles and
// script.
func (p *htmlPage) inlineAssets() error {
	var err error
	if p.LibraryCSS, p.LibraryJS, err = uplot.Library(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, a := range []struct {
		dst  any
		name string
	}{
		{&p.PageCSS, "assets/report.css"},
		{&p.PageJS, "assets/report.js"},
	} {
		b, err := assets.ReadFile(a.name)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		// Our own files, embedded at build time: trusted as CSS and JS.
		switch d := a.dst.(type) {
		case *template.CSS:
			*d = template.CSS(b)
		case *template.JS:
			*d = template.JS(b)
		}
	}
	return nil
}

func sumCounts[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// hookRowOf describes event's hook run h for the page.
func hookRowOf(event int, h *results.HookResult) hookRow {
	r := hookRow{
		Event: "#" + strconv.Itoa(event), Node: strconv.Itoa(h.Node), Name: h.Name,
		Duration: fmt.Sprintf("%.2f s", h.DurationS), Output: h.Output, Verdict: "ok",
	}
	if h.Kind == "command" {
		r.What = strings.Join(h.Command, " ")
	} else {
		r.What = h.Method + " " + h.URL
	}
	switch {
	case h.ExitStatus != nil:
		r.Status = "exit " + strconv.Itoa(*h.ExitStatus)
	case h.HTTPStatus != 0:
		r.Status = "HTTP " + strconv.Itoa(h.HTTPStatus)
	default:
		r.Status = "-"
	}
	switch {
	case h.Cancelled:
		r.Verdict = "cut short: the run ended"
	case h.Error != "":
		r.Verdict, r.Failed = "FAILED: "+h.Error, true
	}
	return r
}
