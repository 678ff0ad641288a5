package results

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// SummarySchema identifies the layout of summary.json. A change that breaks
// readers bumps it.
const SummarySchema = "wsstorm.summary/v1"

// Summary is the content of summary.json, the file that users' scripts and CI
// gates read. Its fields, their JSON names and their order are a contract
// (DESIGN.md, "Results"). Pointers are null in JSON where a value does not
// exist, which is different from zero.
type Summary struct {
	Schema  string     `json:"schema"`
	Profile ProfileRef `json:"profile"`
	// InsecureSkipVerify records that TLS certificates were not verified.
	InsecureSkipVerify bool      `json:"insecure_skip_verify"`
	Seed               uint64    `json:"seed"`
	StartedAt          Timestamp `json:"started_at"`
	DurationS          float64   `json:"duration_s"`
	Interrupted        bool      `json:"interrupted"`
	// Aborted says why the run ended early on its own (a restart hook failed
	// with on_hook_failure = "abort"); empty otherwise.
	Aborted       string         `json:"aborted,omitempty"`
	Passed        bool           `json:"passed"` // not interrupted and every threshold OK
	Clients       int            `json:"clients"`
	PeakConnected int64          `json:"peak_connected"`
	Counters      CounterSummary `json:"counters"`
	LatencyMS     Latencies      `json:"latency_ms"`
	Events        []EventSummary `json:"events"`
	Thresholds    []Threshold    `json:"thresholds"`
	Target        *TargetSide    `json:"target,omitempty"` // only when the embedded target ran
	// Detect is what observe mode saw besides its events; only in observe
	// mode ([detect] enabled).
	Detect *DetectSummary `json:"detect,omitempty"`
	// Segment says which part of a split run these results are; only in a
	// segment's results (wsstorm run --segment I/N).
	Segment *SegmentSummary `json:"segment,omitempty"`
	// Merged says how the results were merged from a split run's segments;
	// only in results wsstorm merge wrote.
	Merged *MergedSummary `json:"merged,omitempty"`
	// Simulated marks results wsstorm simulate computed, with the model it
	// used; only in its results.
	Simulated *Simulated `json:"simulated,omitempty"`
	// ReconnectBreakdown takes the run's reconnects apart.
	ReconnectBreakdown BreakdownSummary `json:"reconnect_breakdown"`
	// GeneratorLimited says the load generator shaped what the run
	// measured (its dial lag passed the bound), with the figures; absent
	// when it did not.
	GeneratorLimited *GeneratorSummary `json:"generator_limited,omitempty"`
}

// BreakdownSummary takes reconnect latency apart (stats.ReconnectParts):
// the mean per reconnect of each part, in milliseconds rounded to 3
// decimals. The parts add up to the mean reconnect latency: the backoffs
// the clients chose (a server's Retry-After included), the generator's dial
// lag, the failed attempts, and the final handshake.
type BreakdownSummary struct {
	Reconnects       int64   `json:"reconnects"`
	BackoffMS        float64 `json:"backoff_ms"`
	DialLagMS        float64 `json:"dial_lag_ms"`
	FailedAttemptsMS float64 `json:"failed_attempts_ms"`
	HandshakeMS      float64 `json:"handshake_ms"`
}

// GeneratorSummary is the verdict on a generator that shaped the run: the
// p99 of its dial lag over the run and the bound it passed (stats.LagBoundOf
// the reconnect p99), and the events whose own lag passed theirs.
type GeneratorSummary struct {
	DialLagP99MS float64 `json:"dial_lag_p99_ms"`
	BoundMS      float64 `json:"bound_ms"`
	Events       []int   `json:"events"`
	// CPUSaturatedEvents are those of Events during whose recovery the
	// generator's CPU was saturated.
	CPUSaturatedEvents []int `json:"cpu_saturated_events"`
	// LocalFailures counts the attempts that failed for want of the
	// generator's own ports or files (no_source_port, too_many_open_files).
	LocalFailures int64 `json:"local_failures"`
}

// Threshold is one judged threshold of the profile: the expression, the
// value the run measured (milliseconds for durations, percent for shares;
// null when the run has no value for it) and whether the run met it.
type Threshold struct {
	Expr  string   `json:"expr"`
	Value *float64 `json:"value"`
	Unit  string   `json:"unit,omitempty"` // "ms" for durations, "%" for shares
	OK    bool     `json:"ok"`
}

// DetectSummary describes observe mode's detection: its settings, and the
// closes that did not make an event (events with action "detected" hold
// the rest).
type DetectSummary struct {
	GapS      float64 `json:"gap_s"`
	MinCloses int     `json:"min_closes"`
	// DroppedBursts are the bursts with fewer than min_closes closes, not
	// reported as events; DroppedCloses are their closes.
	DroppedBursts int   `json:"dropped_bursts"`
	DroppedCloses int64 `json:"dropped_closes"`
	// UnattributedCloses are closes not attributed to any burst because the
	// run had already seen the most bursts it tracks (1024).
	UnattributedCloses int64 `json:"unattributed_closes"`
}

// ProfileRef identifies the profile a run used.
type ProfileRef struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"` // of the file as read, before --set
	// Overrides are the --set key=value pairs applied after reading, in
	// order: compare and merge refuse runs whose overrides differ.
	Overrides []string `json:"overrides"`
	// Scale is the factor --scale or --quick multiplied the timeline by,
	// as an exact fraction ("4/9", "1/2": `--scale 4/9` runs it again),
	// absent when it is as written: compare and merge refuse runs of
	// different scales.
	Scale string `json:"scale,omitempty"`
}

// CounterSummary holds the run's totals. Its maps are never nil.
type CounterSummary struct {
	ConnectAttempts  int64            `json:"connect_attempts"`
	Connects         int64            `json:"connects"`
	ConnectFailures  map[string]int64 `json:"connect_failures"` // by reason
	Closes           map[int]int64    `json:"closes"`           // by close code, observed by clients
	ClientCloses     int64            `json:"client_closes"`
	Reconnects       int64            `json:"reconnects"`
	GaveUp           int64            `json:"gave_up"`
	MessagesSent     int64            `json:"messages_sent"`
	MessagesReceived int64            `json:"messages_received"`
	// OtherFailures are the first distinct messages of the "other" failures
	// (stats.MaxOtherMessages); last, as fields added to the contract go.
	OtherFailures []string `json:"other_failures"`
	// ProtocolStops are the sessions the server ended through the protocol
	// (a protocol preset's or a reply rule's stop), by reason;
	// ProtocolReconnects those a server message sent away to come back.
	ProtocolStops      map[string]int64 `json:"protocol_stops"`
	ProtocolReconnects map[string]int64 `json:"protocol_reconnects"`
}

// Latencies holds one LatencySummary per metric, in the order of stats.Metrics.
type Latencies struct {
	Connect    LatencySummary `json:"connect"`
	Reconnect  LatencySummary `json:"reconnect"`
	Recovery   LatencySummary `json:"recovery"`
	MessageRTT LatencySummary `json:"message_rtt"`
	DialLag    LatencySummary `json:"dial_lag"`
}

// Of returns the summary of metric m, or nil for an unknown metric.
func (l *Latencies) Of(m stats.Metric) *LatencySummary {
	switch m {
	case stats.Connect:
		return &l.Connect
	case stats.Reconnect:
		return &l.Reconnect
	case stats.Recovery:
		return &l.Recovery
	case stats.MessageRTT:
		return &l.MessageRTT
	case stats.DialLag:
		return &l.DialLag
	}
	return nil
}

// LatencySummary describes one histogram in milliseconds, rounded to 3
// decimals (whole microseconds). Every field but Count is nil when Count is 0.
// The values are HdrHistogram's: percentiles and Max are the highest value
// equivalent to the recorded ones at 3 significant digits, Min the lowest.
type LatencySummary struct {
	Count int64    `json:"count"`
	Min   *float64 `json:"min"`
	Mean  *float64 `json:"mean"`
	P50   *float64 `json:"p50"`
	P90   *float64 `json:"p90"`
	P99   *float64 `json:"p99"`
	P999  *float64 `json:"p999"`
	Max   *float64 `json:"max"`
}

// EventSummary is the herd analysis of one chaos event. Seconds are rounded
// to milliseconds, attempt rates to 0.1/s, the herd factor to 2 decimals,
// attempts per client and imbalance to 3. An event observe mode found has
// action "detected": at_s is its first close, node the node all its closes
// came from (nil: several or unknown).
type EventSummary struct {
	Index             int              `json:"index"`
	AtS               float64          `json:"at_s"`
	Action            string           `json:"action"` // rolling_restart, restart, close, crash, freeze, or detected
	Node              *int             `json:"node"`   // nil: every node
	Code              int              `json:"code"`
	Affected          int64            `json:"affected"`
	Reconnected       int64            `json:"reconnected"`
	NeverReconnected  int64            `json:"never_reconnected"`
	T50S              *float64         `json:"t50_s"` // nil: that share never reconnected
	T90S              *float64         `json:"t90_s"`
	T99S              *float64         `json:"t99_s"`
	T100S             *float64         `json:"t100_s"`
	PeakAttemptRate   float64          `json:"peak_attempt_rate"`
	MeanAttemptRate   float64          `json:"mean_attempt_rate"`
	HerdFactor        float64          `json:"herd_factor"`
	AttemptsPerClient float64          `json:"attempts_per_client"`
	FailedAttempts    map[string]int64 `json:"failed_attempts"` // never nil
	ImbalanceAfter    *float64         `json:"imbalance_after"` // nil without per-node gauges
	// DetectionMS is the time from the event's start until each of its
	// clients observed its close (for a freeze: noticed, through a ping
	// left unanswered); absent for an event observe mode found, and for one
	// whose clients saw no close.
	DetectionMS *LatencySummary `json:"detection_ms,omitempty"`
	// Frozen is, for a freeze, how many connections the node held frozen;
	// Affected counts those whose clients noticed.
	Frozen int64 `json:"frozen,omitempty"`
	// ReconnectExpected: the close-code policy brings this event's clients
	// back; events.* thresholds judge only such events.
	ReconnectExpected bool `json:"reconnect_expected"`
	// Failed: the event did not happen as planned (its restart hook failed);
	// a run with a failed event does not pass.
	Failed bool `json:"failed"`
	// Hook is what the restart hook of an external target's node did; nil
	// for the embedded target and the proxy.
	Hook *HookResult `json:"hook,omitempty"`
	// FirstAttempts counts the attempts its clients meant after their
	// closes (retries after failures left out), and
	// IntendedPeakAttemptRate is their peak per second by when the clients
	// meant them: the herd the clients intended, beside PeakAttemptRate,
	// the herd the generator achieved.
	FirstAttempts           int64   `json:"first_attempts"`
	IntendedPeakAttemptRate float64 `json:"intended_peak_attempt_rate"`
	// DialLagMS is the dial lag of its clients' attempts; absent when they
	// made none.
	DialLagMS *LatencySummary `json:"dial_lag_ms,omitempty"`
	// DialLagBoundMS is the bound its dial lag p99 is judged by
	// (stats.LagBoundOf its t99), and GeneratorLimited says the p99 passed it.
	DialLagBoundMS     float64          `json:"dial_lag_bound_ms"`
	GeneratorLimited   bool             `json:"generator_limited"`
	ReconnectBreakdown BreakdownSummary `json:"reconnect_breakdown"`
	// CPUBusyPct is the mean percent of its cores the generator's process
	// was busy over the event's recovery (merged results: the busiest
	// process's), MachineCPUBusyPct the machine's (null: not sampled, or
	// not known there), and CPUSaturated says either was at least 90%: then
	// the generator shaped the event, whatever its dial lag.
	CPUBusyPct        *float64 `json:"cpu_busy_pct"`
	MachineCPUBusyPct *float64 `json:"machine_cpu_busy_pct"`
	CPUSaturated      bool     `json:"cpu_saturated"`
	// QueuedAttempts counts its clients' attempts that waited for one of
	// the fleet's dial slots (fleet.max_dialing).
	QueuedAttempts int64 `json:"queued_attempts"`
}

// HookResult is one restart hook's run, secrets redacted.
type HookResult struct {
	Node       int      `json:"node"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"` // "command" or "http"
	Command    []string `json:"command,omitempty"`
	Method     string   `json:"method,omitempty"`
	URL        string   `json:"url,omitempty"`
	ExitStatus *int     `json:"exit_status,omitempty"` // a command's, when it exited
	HTTPStatus int      `json:"http_status,omitempty"` // a request's, when answered
	DurationS  float64  `json:"duration_s"`
	Output     string   `json:"output"` // the first 4 KiB of its output or response body
	Error      string   `json:"error,omitempty"`
	// Cancelled: the run ended while the hook ran; not the hook's failure.
	Cancelled bool `json:"cancelled,omitempty"`
}

// timestampLayout is RFC 3339 with exactly three fractional digits.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Timestamp is a wall-clock instant, written in JSON as RFC 3339 in UTC with
// millisecond precision.
type Timestamp struct{ time.Time }

// MarshalJSON writes the instant as a JSON string such as
// "2026-11-25T15:01:02.123Z".
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(timestampLayout) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("timestamp %s is not a JSON string", s)
	}
	v, err := time.Parse(time.RFC3339Nano, s[1:len(s)-1])
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	t.Time = v.UTC()
	return nil
}

// BuildSummary turns a run into its summary; p is what the summary records
// of the profile the run used (nil: none). A nil Results counts as empty.
// The thresholds are not judged here: SetThresholds records them. The
// summary shares no memory with run or p.
func BuildSummary(run *Run, p *RunProfile) *Summary {
	s := &Summary{
		Schema: SummarySchema,
		Counters: CounterSummary{
			ConnectFailures:    map[string]int64{},
			OtherFailures:      []string{},
			Closes:             map[int]int64{},
			ProtocolStops:      map[string]int64{},
			ProtocolReconnects: map[string]int64{},
		},
		Events:     []EventSummary{},
		Thresholds: []Threshold{},
	}
	if run == nil {
		return s
	}
	s.Interrupted = run.Interrupted
	s.Profile.Overrides = []string{}
	if p != nil {
		s.Profile = ProfileRef{Name: p.Name, Path: p.Path, SHA256: p.SHA256, Overrides: append([]string{}, p.Overrides...), Scale: p.Scale}
		s.Seed = p.Seed
		s.Clients = p.Clients
		s.InsecureSkipVerify = p.InsecureSkipVerify
	}
	if r := run.Results; r != nil {
		s.StartedAt = Timestamp{r.Started.UTC().Truncate(time.Millisecond)}
		s.DurationS = seconds(r.Elapsed)
		s.PeakConnected = r.PeakConnected
		s.Counters = counterSummary(&r.Counters)
		for _, m := range stats.Metrics {
			*s.LatencyMS.Of(m) = latencySummary(r.Histogram(m))
		}
		s.ReconnectBreakdown = breakdownSummary(r.Breakdown)
		s.GeneratorLimited = generatorSummary(&r.Generator)
		for i := range r.Events {
			e := eventSummary(&r.Events[i])
			if h := run.Hooks[e.Index]; h != nil {
				e.Hook = h
				e.Failed = h.Error != ""
			}
			s.Events = append(s.Events, e)
		}
	}
	s.Aborted = run.Aborted
	s.Passed = !run.Interrupted && run.Aborted == ""
	for _, e := range s.Events {
		if e.Failed {
			s.Passed = false
		}
	}
	if r := run.Results; r != nil && r.Detect != nil {
		s.Detect = &DetectSummary{GapS: seconds(r.Detect.Gap), MinCloses: r.Detect.MinCloses,
			DroppedBursts: r.Detect.DroppedBursts, DroppedCloses: r.Detect.DroppedCloses,
			UnattributedCloses: r.Detect.Unattributed}
	}
	s.Segment = segmentSummary(run.Segment)
	s.Merged = mergedSummary(run.Merged)
	s.Simulated = simulatedSummary(run.Simulated)
	if t := run.Target; t != nil {
		s.Target = &TargetSide{
			Nodes:        append(make([]NodeSide, 0, len(t.Nodes)), t.Nodes...),
			ImbalanceEnd: roundPtr(t.ImbalanceEnd, 3),
		}
	}
	return s
}

// SetThresholds records the profile's thresholds as judged on s: a run
// that missed one did not pass.
func (s *Summary) SetThresholds(judged []Threshold) {
	s.Thresholds = append([]Threshold{}, judged...)
	for _, t := range judged {
		if !t.OK {
			s.Passed = false
		}
	}
}

func counterSummary(c *stats.Counters) CounterSummary {
	out := CounterSummary{
		ConnectAttempts:  c.ConnectAttempts,
		Connects:         c.Connects,
		ConnectFailures:  copyCounts(c.ConnectFailures),
		OtherFailures:    append([]string{}, c.OtherFailures...),
		Closes:           make(map[int]int64, len(c.Closes)),
		ClientCloses:     c.ClientCloses,
		Reconnects:       c.Reconnects,
		GaveUp:           c.GaveUp,
		MessagesSent:     c.MessagesSent,
		MessagesReceived: c.MessagesReceived,
		// Never null: a reader may index them without a check.
		ProtocolStops:      copyCounts(c.ProtocolStops),
		ProtocolReconnects: copyCounts(c.ProtocolReconnects),
	}
	for code, n := range c.Closes {
		out.Closes[code] = n
	}
	return out
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// latencySummary reads h, which holds microseconds; a nil h counts as empty.
func latencySummary(h *hdrhistogram.Histogram) LatencySummary {
	if h == nil || h.TotalCount() == 0 {
		return LatencySummary{}
	}
	ms := func(us int64) *float64 { v := MicrosToMillis(us); return &v }
	mean := Round(h.Mean()/1000, 3)
	return LatencySummary{
		Count: h.TotalCount(),
		Min:   ms(h.Min()),
		Mean:  &mean,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

func eventSummary(e *stats.EventReport) EventSummary {
	out := EventSummary{
		Index:             e.Index,
		AtS:               seconds(e.At),
		Action:            e.Action,
		Code:              e.Code,
		Affected:          e.Affected,
		Reconnected:       e.Reconnected,
		NeverReconnected:  e.NeverReconnected,
		T50S:              secondsPtr(e.T50),
		T90S:              secondsPtr(e.T90),
		T99S:              secondsPtr(e.T99),
		T100S:             secondsPtr(e.T100),
		PeakAttemptRate:   Round(e.PeakAttemptRate, 1),
		MeanAttemptRate:   Round(e.MeanAttemptRate, 1),
		HerdFactor:        Round(e.HerdFactor, 2),
		AttemptsPerClient: Round(e.AttemptsPerClient, 3),
		FailedAttempts:    copyCounts(e.FailedAttempts),
		ImbalanceAfter:    roundPtr(e.ImbalanceAfter, 3),
		ReconnectExpected: e.ReconnectExpected,
		Frozen:            e.Frozen,
	}
	if e.CloseAt != nil {
		d := latencySummary(e.CloseAt)
		out.DetectionMS = &d
	}
	out.FirstAttempts = e.FirstAttempts
	out.IntendedPeakAttemptRate = Round(e.IntendedPeakRate, 1)
	if e.DialLag != nil {
		d := latencySummary(e.DialLag)
		out.DialLagMS = &d
	}
	out.DialLagBoundMS = millis(e.LagBound)
	out.GeneratorLimited = e.GeneratorLimited
	out.ReconnectBreakdown = breakdownSummary(e.Breakdown)
	out.CPUBusyPct, out.MachineCPUBusyPct = roundPtr(e.CPUBusy, 1), roundPtr(e.MachineBusy, 1)
	out.CPUSaturated = e.CPUSaturated
	out.QueuedAttempts = e.Queued
	if e.Node >= 0 {
		node := e.Node
		out.Node = &node
	}
	return out
}

// breakdownSummary is b as means per reconnect.
func breakdownSummary(b stats.Breakdown) BreakdownSummary {
	out := BreakdownSummary{Reconnects: b.Reconnects}
	if b.Reconnects == 0 {
		return out
	}
	mean := func(d time.Duration) float64 { return millis(d / time.Duration(b.Reconnects)) }
	out.BackoffMS, out.DialLagMS = mean(b.Backoff), mean(b.Lag)
	out.FailedAttemptsMS, out.HandshakeMS = mean(b.Failed), mean(b.Handshake)
	return out
}

// generatorSummary is v in summary.json: nil unless the generator shaped
// the run.
func generatorSummary(v *stats.GeneratorVerdict) *GeneratorSummary {
	if !v.Limited {
		return nil
	}
	return &GeneratorSummary{DialLagP99MS: millis(v.LagP99), BoundMS: millis(v.Bound), Events: append([]int{}, v.Events...),
		CPUSaturatedEvents: append([]int{}, v.CPUEvents...), LocalFailures: v.LocalFailures}
}

func millis(d time.Duration) float64 { return Round(float64(d)/1e6, 3) }

// MicrosToMillis converts a histogram value (µs) to milliseconds as the
// summary gives them: rounded to 3 decimals, whole microseconds.
func MicrosToMillis(us int64) float64 { return Round(float64(us)/1000, 3) }

func seconds(d time.Duration) float64 { return Round(d.Seconds(), 3) }

func secondsPtr(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	v := seconds(*d)
	return &v
}

func roundPtr(v *float64, decimals int) *float64 {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	r := Round(*v, decimals)
	return &r
}

// Round rounds v to the given number of decimals, as the summary rounds its
// figures. JSON has no NaN or infinity, so those become 0 rather than make
// the whole file unwritable.
func Round(v float64, decimals int) float64 {
	v = finite(v)
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// normalize replaces the nil maps and slices a hand-edited or older file may
// hold with empty ones, so readers can rely on them.
func (s *Summary) normalize() {
	if s.Counters.ConnectFailures == nil {
		s.Counters.ConnectFailures = map[string]int64{}
	}
	if s.Counters.OtherFailures == nil {
		s.Counters.OtherFailures = []string{}
	}
	if s.Counters.Closes == nil {
		s.Counters.Closes = map[int]int64{}
	}
	if s.Profile.Overrides == nil {
		s.Profile.Overrides = []string{}
	}
	if s.Events == nil {
		s.Events = []EventSummary{}
	}
	for i := range s.Events {
		if s.Events[i].FailedAttempts == nil {
			s.Events[i].FailedAttempts = map[string]int64{}
		}
	}
	if s.Thresholds == nil {
		s.Thresholds = []Threshold{}
	}
	if s.Target != nil && s.Target.Nodes == nil {
		s.Target.Nodes = []NodeSide{}
	}
}

// checkSchema reports whether s is a summary this package can read.
func (s *Summary) checkSchema() error {
	if s.Schema == SummarySchema {
		return nil
	}
	if s.Schema == "" {
		return fmt.Errorf("no schema field: not a wsstorm summary")
	}
	if strings.HasPrefix(s.Schema, "wsstorm.summary/") {
		return fmt.Errorf("schema %q is not supported by this version of wsstorm (it reads %q)", s.Schema, SummarySchema)
	}
	return fmt.Errorf("schema %q is not a wsstorm summary", s.Schema)
}
