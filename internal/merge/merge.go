// Package merge merges the results of a split run's segments (wsstorm run
// --segment I/N, each a results directory) into the results one process
// running the whole fleet would have written.
//
// Counters are summed and histograms merged exactly. Time series are lined
// up by wall clock: segment k's bucket b is bucket b + round((start_k −
// earliest start) / width) of the merged series, so they line up to half a
// bucket plus the machines' clock offset. Each event's herd figures are
// computed again from the merged records (stats.Results.Analyze), never
// averaged. peak_connected is the largest sum of the segments' connected
// clients over the lined-up buckets (or a segment's own peak, if larger):
// the segments' peaks fall at different moments, so their sum overstates
// it, while the merged series misses only peaks shorter than a bucket.
//
// The segments must be those of one run: one profile (name, sha256,
// overrides, seed), one split, one --start-at, each segment once, at most
// one of them driving the chaos, and wall-clock starts at most
// max(1s, 10% of the profile's duration) apart: segments started further
// apart, without a shared --start-at, are separate runs.
//
// Events are matched by index. With a segment that drove the chaos, its
// events are the run's: an event another segment has but it lacks never
// happened (the others mark each event begun a little before its planned
// time, so a run that ends in between leaves them one the chaos never
// began), and is left out of that segment. Without one, the run's events
// are those of any segment. Every segment must have every event of the
// run, bar a segment whose run was cut short (interrupted or aborted),
// which may lack the run's last events: those after the last it has.
package merge

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// ErrRefused is the error, wrapped, of a merge refused because of what the
// directories hold: segments of different runs, a segment missing or given
// twice, a directory that is not a segment's.
var ErrRefused = errors.New("the segments cannot be merged")

// RefusedError is a refused merge: its message names the directories and
// says what to do. errors.Is(err, ErrRefused) holds for it.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

// Is makes a RefusedError match ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func refuse(format string, args ...any) error {
	return &RefusedError{Msg: fmt.Sprintf(format, args...)}
}

// Dirs reads the results directories of a split run's segments, one per
// segment in any order, and returns the run as if one process had run the
// whole fleet, with the profile it ran, ready for report.Write. The profile
// is the one the segment with the lowest index wrote (profile.toml), with
// the name, path, sha256 and overrides the segments reported; its
// thresholds are for judging the merged results. A refusal is a
// *RefusedError; a file that cannot be read or makes no sense is a
// *results.FileError naming it. Either way the directories are at fault,
// not the machine. Dirs writes nothing.
func Dirs(dirs []string) (*results.Run, *profile.Profile, error) {
	if len(dirs) == 0 {
		return nil, nil, refuse("no segment directories to merge: name the results directories of every segment of the run")
	}
	segs := make([]*results.SegmentResults, 0, len(dirs))
	for _, dir := range dirs {
		s, err := results.ReadSegment(dir)
		switch {
		case errors.Is(err, results.ErrNotSegment):
			return nil, nil, refuse("%s is not a segment's results (%s): merge the directories that wsstorm run --segment I/N wrote, one per segment", dir, notSegmentWhy(err))
		case errors.Is(err, results.ErrNotResults):
			return nil, nil, refuse("%s has no %s: it is not a segment's results, or its run was killed before it wrote them; merge the directories that wsstorm run --segment I/N wrote, one per segment", dir, results.SummaryFile)
		case err != nil:
			var fe *results.FileError
			if errors.As(err, &fe) {
				return nil, nil, fe // it names the file; the package prefix means nothing here
			}
			return nil, nil, err
		}
		segs = append(segs, s)
	}
	slices.SortStableFunc(segs, func(a, b *results.SegmentResults) int { return cmp.Compare(a.Segment.Index, b.Segment.Index) })
	if err := check(segs); err != nil {
		return nil, nil, err
	}
	p, err := loadProfile(segs)
	if err != nil {
		return nil, nil, err
	}
	if err := checkStartSpread(segs, p.Duration.D()); err != nil {
		return nil, nil, err
	}
	dropUnbegun(segs)
	if err := checkEvents(segs); err != nil {
		return nil, nil, err
	}
	return combine(segs), p, nil
}

// maxStartSpread is how far apart the wall-clock starts of a run's
// segments may be, for a profile of duration d: 10% of it, and at least
// 1s. Segments given one --start-at start together, bar the machines'
// clock offsets; segments further apart are not one run.
func maxStartSpread(d time.Duration) time.Duration { return max(time.Second, d/10) }

// checkStartSpread refuses segments that started too far apart to be one
// run of a profile of duration d.
func checkStartSpread(segs []*results.SegmentResults, d time.Duration) error {
	first, last := segs[0], segs[0]
	for _, s := range segs[1:] {
		if s.Results.Started.Before(first.Results.Started) {
			first = s
		}
		if s.Results.Started.After(last.Results.Started) {
			last = s
		}
	}
	spread, limit := last.Results.Started.Sub(first.Results.Started), maxStartSpread(d)
	if spread <= limit {
		return nil
	}
	return refuse("%s and %s started %.1fs apart, more than the %v that segments of one %v run may be (10%% of its duration, at least 1s): they are separate runs; run every segment with one --start-at TIME",
		first.Dir, last.Dir, spread.Seconds(), limit, d)
}

// dropUnbegun leaves out of each segment the events that the segment that
// drove the chaos, if there is one, lacks: the chaos never began them.
func dropUnbegun(segs []*results.SegmentResults) {
	i := slices.IndexFunc(segs, func(s *results.SegmentResults) bool { return s.Segment.Chaos })
	if i < 0 {
		return
	}
	driver := segs[i]
	for _, s := range segs {
		if s == driver {
			continue
		}
		s.Results.Events = slices.DeleteFunc(s.Results.Events, func(e stats.EventReport) bool {
			return !hasEvent(driver, e.Index)
		})
	}
}

func hasEvent(s *results.SegmentResults, idx int) bool {
	return slices.ContainsFunc(s.Results.Events, func(e stats.EventReport) bool { return e.Index == idx })
}

// notSegmentWhy says why a results directory is not a segment's.
func notSegmentWhy(err error) string {
	_, why, ok := strings.Cut(err.Error(), results.ErrNotSegment.Error()+": ")
	if !ok {
		return "no " + results.SegmentFile
	}
	if strings.HasPrefix(why, "it has no "+results.SegmentFile) {
		return why + ": a normal run's or merged results"
	}
	return why
}

// check refuses segments that are not the segments of one run, each once.
func check(segs []*results.SegmentResults) error {
	first := segs[0]
	for _, s := range segs[1:] {
		a, b := first.Summary, s.Summary
		switch {
		case a.Profile.Name != b.Profile.Name:
			return refuse("%s and %s are segments of different profiles (%q and %q): merge the segments of one run", first.Dir, s.Dir, a.Profile.Name, b.Profile.Name)
		case a.Profile.SHA256 != b.Profile.SHA256:
			return refuse("%s and %s are segments of two versions of profile %q (sha256 %s and %s): merge the segments of one run", first.Dir, s.Dir, a.Profile.Name, short(a.Profile.SHA256), short(b.Profile.SHA256))
		case !slices.Equal(a.Profile.Overrides, b.Profile.Overrides):
			return refuse("%s and %s are segments of profile %q with different --set overrides (%q and %q): merge the segments of one run", first.Dir, s.Dir, a.Profile.Name, a.Profile.Overrides, b.Profile.Overrides)
		case a.Profile.Scale != b.Profile.Scale:
			return refuse("%s and %s are segments of profile %q with different --scale (%s and %s): merge the segments of one run", first.Dir, s.Dir, a.Profile.Name, scaleOrNone(a.Profile.Scale), scaleOrNone(b.Profile.Scale))
		case a.Seed != b.Seed:
			return refuse("%s and %s ran with different seeds (%d and %d): merge the segments of one run", first.Dir, s.Dir, a.Seed, b.Seed)
		case first.Segment.Count != s.Segment.Count:
			return refuse("%s is segment %d/%d but %s is segment %d/%d: merge the segments of one run, all split the same way", first.Dir, first.Segment.Index, first.Segment.Count, s.Dir, s.Segment.Index, s.Segment.Count)
		case !first.Segment.StartAt.Equal(s.Segment.StartAt):
			return refuse("%s and %s started at different --start-at times (%s and %s): merge the segments of one run", first.Dir, s.Dir, startAt(first.Segment.StartAt), startAt(s.Segment.StartAt))
		case first.Results.BucketWidth != s.Results.BucketWidth:
			return refuse("%s and %s have time series of different bucket widths (%v and %v): run every segment with the same version of wsstorm", first.Dir, s.Dir, first.Results.BucketWidth, s.Results.BucketWidth)
		}
	}
	n := first.Segment.Count
	var missing []string
	byIndex := make(map[int]*results.SegmentResults, len(segs))
	var chaos []*results.SegmentResults
	for _, s := range segs {
		if prev := byIndex[s.Segment.Index]; prev != nil {
			if sameFile(prev.Dir, s.Dir) {
				return refuse("%s is named twice: name each segment's directory once", s.Dir)
			}
			return refuse("segment %d/%d is given twice, %s and %s: name each segment's directory once", s.Segment.Index, n, prev.Dir, s.Dir)
		}
		byIndex[s.Segment.Index] = s
		if s.Segment.Chaos {
			chaos = append(chaos, s)
		}
	}
	for i := range n {
		if byIndex[i] == nil {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		what := "segment " + missing[0] + " is"
		if len(missing) > 1 {
			what = "segments " + strings.Join(missing, ", ") + " are"
		}
		return refuse("%s missing of the run's %d (0..%d): name the results directories of all %d segments", what, n, n-1, n)
	}
	if len(chaos) > 1 {
		return refuse("segments %d (%s) and %d (%s) both drove the chaos: each event happened more than once, so these are not the segments of one run; run it again with the chaos in one segment", chaos[0].Segment.Index, chaos[0].Dir, chaos[1].Segment.Index, chaos[1].Dir)
	}
	return nil
}

// checkEvents refuses segments whose events differ: every segment must have
// the same events, bar the last ones, after the last it has, of a segment
// that ended early.
func checkEvents(segs []*results.SegmentResults) error {
	type seen struct {
		ev  *stats.EventReport
		seg *results.SegmentResults
	}
	events := map[int]seen{}
	for _, s := range segs {
		for i := range s.Results.Events {
			e := &s.Results.Events[i]
			o, ok := events[e.Index]
			if !ok {
				events[e.Index] = seen{e, s}
				continue
			}
			if o.ev.Action != e.Action || o.ev.Code != e.Code || o.ev.Node != e.Node && e.Action != stats.DetectedAction {
				return refuse("event %d is %s in %s but %s in %s: these are not the segments of one run", e.Index, eventName(o.ev), o.seg.Dir, eventName(e), s.Dir)
			}
		}
	}
	for _, s := range segs {
		// A run cut short may lack the events after the last it has.
		last := math.MaxInt
		if endedEarly(s.Summary) {
			last = -1
			for _, e := range s.Results.Events {
				last = max(last, e.Index)
			}
		}
		for _, idx := range slices.Sorted(maps.Keys(events)) {
			if idx <= last && !hasEvent(s, idx) {
				o := events[idx]
				hint := "these are not the segments of one run"
				switch {
				case o.ev.Action == stats.DetectedAction:
					hint = "observe mode found different bursts of closes in the segments, which cannot be lined up; observe with one process"
				case endedEarly(s.Summary):
					hint = fmt.Sprintf("a segment cut short may lack only the run's last events, but it has event %d; these are not the segments of one run", last)
				}
				return refuse("event %d (%s) is in %s but not in %s: %s", idx, eventName(o.ev), o.seg.Dir, s.Dir, hint)
			}
		}
	}
	return nil
}

// endedEarly reports a segment whose run was cut short, which may lack the
// events after its end.
func endedEarly(s *results.Summary) bool { return s.Interrupted || s.Aborted != "" }

func eventName(e *stats.EventReport) string {
	node := "all nodes"
	if e.Node >= 0 {
		node = "node " + strconv.Itoa(e.Node)
	}
	return fmt.Sprintf("%s %d on %s", e.Action, e.Code, node)
}

func short(h string) string { return h[:min(len(h), 12)] }

func startAt(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// loadProfile loads the profile.toml of the first segment: the effective
// profile, which loads back to the profile the segments ran, with the
// identity the segments reported.
func loadProfile(segs []*results.SegmentResults) (*profile.Profile, error) {
	first := segs[0]
	path := filepath.Join(first.Dir, results.ProfileFile)
	if first.ProfileTOML == "" {
		return nil, &results.FileError{Path: path, Err: errors.New("missing"), Hint: "the merge judges the thresholds with the profile the segments wrote; run the segments again with this version of wsstorm"}
	}
	p, err := profile.Parse([]byte(first.ProfileTOML), path, nil)
	if err != nil {
		return nil, profileError(first, err)
	}
	ref := first.Summary.Profile
	p.Name, p.Path, p.SHA256 = ref.Name, ref.Path, ref.SHA256
	p.Overrides = slices.Clone(ref.Overrides)
	p.ScaleExact = ref.Scale
	p.Scale = profile.ScaleValue(ref.Scale)
	clients := 0
	for _, s := range segs {
		clients += s.Segment.Clients
	}
	if clients > 0 {
		p.Fleet.Clients = clients
	}
	return p, nil
}

// fileKeys are the profile keys that name a file the profile reads as it
// loads.
var fileKeys = []string{"send_file", "ca_file", "cert_file", "key_file"}

// profileError says why the profile.toml of segment first does not load: the profile's first problem, and where a problem is a file it
// names that this machine lacks, which files.
func profileError(first *results.SegmentResults, err error) error {
	var errs profile.Errors
	msg := err.Error()
	if errors.As(err, &errs) && len(errs) > 0 {
		msg = errs[0].Error()
		if len(errs) > 1 {
			msg += fmt.Sprintf(" (and %d more problems)", len(errs)-1)
		}
	}
	var missing []string
	var tree map[string]any
	if _, terr := toml.Decode(first.ProfileTOML, &tree); terr == nil {
		for _, e := range errs {
			last := e.Key[strings.LastIndexByte(e.Key, '.')+1:]
			if !slices.Contains(fileKeys, last) {
				continue
			}
			file, ok := valueAt(tree, e.Key).(string)
			if !ok || file == "" {
				continue
			}
			if !filepath.IsAbs(file) {
				file = filepath.Join(first.Dir, file)
			}
			if _, serr := os.Stat(file); errors.Is(serr, fs.ErrNotExist) && !slices.Contains(missing, file) {
				missing = append(missing, file)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the profile the segments ran does not load here: %s; it reads files this machine lacks (%s): merge where the segments ran, or put the files at the same paths", msg, strings.Join(missing, ", "))
	}
	return fmt.Errorf("the profile the segments ran does not load: %s; it is the effective profile their wsstorm wrote: correct that key in the file, or merge with the version of wsstorm that ran them", msg)
}

// valueAt returns the value at the dotted key in tree, or nil. An index
// in the key picks an element of an array of tables.
func valueAt(tree map[string]any, key string) any {
	var v any = tree
	for part := range strings.SplitSeq(key, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []map[string]any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// combine merges the checked segments, in index order.
func combine(segs []*results.SegmentResults) *results.Run {
	width := segs[0].Results.BucketWidth
	earliest, latest := segs[0].Results.Started, segs[0].Results.Started
	for _, s := range segs {
		earliest = minTime(earliest, s.Results.Started)
		latest = maxTime(latest, s.Results.Started)
	}
	// Each segment's first bucket in the merged series.
	offsets := make([]int, len(segs))
	rows := 1
	res := &stats.Results{
		Started:     earliest,
		BucketWidth: width,
		Counters:    stats.Counters{ConnectFailures: map[string]int64{}, Closes: map[int]int64{}},
	}
	for m := range res.Histograms {
		res.Histograms[m] = stats.NewHistogram()
	}
	for k, s := range segs {
		r := s.Results
		from := r.Started.Sub(earliest)
		offsets[k] = int(math.Round(float64(from) / float64(width)))
		rows = max(rows, offsets[k]+len(r.Series))
		res.Elapsed = max(res.Elapsed, from+r.Elapsed)
		res.Counters.Add(&r.Counters)
		res.Breakdown.Merge(r.Breakdown)
		for m := range res.Histograms {
			if h := r.Histograms[m]; h != nil {
				res.Histograms[m].Merge(h)
			}
		}
		res.PeakConnected = max(res.PeakConnected, r.PeakConnected)
		if d := r.Detect; d != nil {
			if res.Detect == nil {
				res.Detect = &stats.DetectReport{Gap: d.Gap, MinCloses: d.MinCloses}
			}
			res.Detect.DroppedBursts += d.DroppedBursts
			res.Detect.DroppedCloses += d.DroppedCloses
			res.Detect.Unattributed += d.Unattributed
		}
	}
	mergeSeries(res, segs, offsets, rows)
	for _, b := range res.Series {
		res.PeakConnected = max(res.PeakConnected, b.Connected)
	}

	chaos := slices.IndexFunc(segs, func(s *results.SegmentResults) bool { return s.Segment.Chaos })
	merged := &results.Merged{Segments: len(segs), ChaosSegment: -1, StartSpread: latest.Sub(earliest)}
	if chaos >= 0 {
		merged.ChaosSegment = segs[chaos].Segment.Index
	}
	merged.EventShift = mergeEvents(res, segs, offsets, chaos)
	res.Analyze()

	run := &results.Run{Results: res, Merged: merged}
	for _, s := range segs {
		run.Interrupted = run.Interrupted || s.Summary.Interrupted
	}
	// The chaos segment's word on the hooks and an abort first: it ran them.
	if chaos >= 0 {
		run.Aborted = segs[chaos].Summary.Aborted
	}
	for _, s := range segs {
		if run.Aborted == "" {
			run.Aborted = s.Summary.Aborted
		}
	}
	if chaos >= 0 {
		for _, e := range segs[chaos].Summary.Events {
			if e.Hook != nil {
				if run.Hooks == nil {
					run.Hooks = map[int]*results.HookResult{}
				}
				h := *e.Hook
				run.Hooks[e.Index] = &h
			}
		}
	}
	// The server's side is whole only when one segment ran the target.
	if t := only(segs, func(s *results.SegmentResults) bool { return s.Summary.Target != nil }); t != nil {
		side := *t.Summary.Target
		side.Nodes = slices.Clone(side.Nodes)
		run.Target = &side
	}
	return run
}

// only returns the one segment for which has holds, or nil when none or
// several do.
func only(segs []*results.SegmentResults, has func(*results.SegmentResults) bool) *results.SegmentResults {
	var found *results.SegmentResults
	for _, s := range segs {
		if has(s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// mergeSeries sums the segments' series, segment k's bucket b into bucket
// b+offsets[k]. The close-code columns are chosen from the merged closes as
// a live run chooses them; a segment's closes_other, which only a run with
// more close codes than columns has, goes to the merged closes_other. The
// gauges (the target's per-node counts) are kept only when one segment has
// them: per-node counts of several targets do not add up to one target's.
func mergeSeries(res *stats.Results, segs []*results.SegmentResults, offsets []int, rows int) {
	res.CloseCodes = stats.SeriesCodes(res.Counters.Closes)
	column := make(map[int]int, len(res.CloseCodes))
	for j, code := range res.CloseCodes {
		column[code] = j
	}
	gauged := only(segs, func(s *results.SegmentResults) bool { return len(s.Results.GaugeNames) > 0 })
	if gauged != nil {
		res.GaugeNames = slices.Clone(gauged.Results.GaugeNames)
		res.ImbalanceGauges = slices.Clone(gauged.Results.ImbalanceGauges)
	}
	res.Series = make([]stats.Bucket, rows)
	for b := range res.Series {
		res.Series[b] = stats.Bucket{Start: time.Duration(b) * res.BucketWidth, Closes: make([]int64, len(res.CloseCodes)), CPU: -1, MachineCPU: -1}
		if gauged != nil {
			g := make([]int64, len(res.GaugeNames))
			for j := range g {
				g[j] = -1 // no sample
			}
			res.Series[b].Gauges = g
		}
	}
	for k, s := range segs {
		r := s.Results
		cols := make([]int, len(r.CloseCodes))
		for j, code := range r.CloseCodes {
			c, ok := column[code]
			if !ok {
				c, ok = column[stats.OtherCodes]
			}
			if !ok {
				c = -1
			}
			cols[j] = c
		}
		for b, src := range r.Series {
			dst := &res.Series[b+offsets[k]]
			dst.Connected += src.Connected
			dst.Attempts += src.Attempts
			dst.Connects += src.Connects
			dst.Failures += src.Failures
			dst.Intended += src.Intended
			// The busiest process: a saturated one shaped its clients'
			// herd, whatever the others did.
			dst.CPU, dst.MachineCPU = max(dst.CPU, src.CPU), max(dst.MachineCPU, src.MachineCPU)
			for j, v := range src.Closes {
				if j < len(cols) && cols[j] >= 0 {
					dst.Closes[cols[j]] += v
				}
			}
			if s == gauged {
				copy(dst.Gauges, src.Gauges)
			}
		}
	}
}

// mergeEvents sums each event's records over the segments into res.Events
// and returns the largest shift applied to a segment's reconnect offsets.
//
// A segment's event offsets are from its own start of the event. The merged
// event starts when the segment that drove the chaos started it (without
// one: when the first segment did; a detected event: at the first close any
// segment saw), so every other segment's reconnect offsets move by the
// difference of the wall-clock starts. A moved offset keeps 3 significant
// digits, and is as right as the machines' clocks agree.
func mergeEvents(res *stats.Results, segs []*results.SegmentResults, offsets []int, chaos int) time.Duration {
	type part struct {
		k  int
		ev *stats.EventReport
	}
	byIndex := map[int][]part{}
	for k, s := range segs {
		for i := range s.Results.Events {
			e := &s.Results.Events[i]
			byIndex[e.Index] = append(byIndex[e.Index], part{k, e})
		}
	}
	wallStart := func(p part) time.Time { return segs[p.k].Results.Started.Add(p.ev.At) }
	var most time.Duration
	last := len(res.Series) - 1
	for _, idx := range slices.Sorted(maps.Keys(byIndex)) {
		parts := byIndex[idx]
		ref := parts[0]
		for _, p := range parts[1:] {
			if wallStart(p).Before(wallStart(ref)) {
				ref = p
			}
		}
		detected := ref.ev.Action == stats.DetectedAction
		if !detected && chaos >= 0 {
			if i := slices.IndexFunc(parts, func(p part) bool { return p.k == chaos }); i >= 0 {
				ref = parts[i]
			}
		}
		start := wallStart(ref)
		ev := stats.EventReport{
			Index: idx, At: start.Sub(res.Started), Action: ref.ev.Action, Node: ref.ev.Node, Code: ref.ev.Code,
			ReconnectExpected: ref.ev.ReconnectExpected, PlannedAt: ref.ev.PlannedAt, Settle: ref.ev.Settle,
			Frozen:         ref.ev.Frozen, // the driving segment's: the target's count
			FailedAttempts: map[string]int64{}, ReconnectAt: stats.NewHistogram(),
		}
		end := start.Add(ref.ev.Settle)
		for _, p := range parts {
			e := p.ev
			shift := wallStart(p).Sub(start)
			most = max(most, shift, -shift)
			addEventPart(&ev, e, shift, offsets[p.k], last)
			if detected {
				end = maxTime(end, wallStart(p).Add(e.Settle))
				if e.Node != ev.Node {
					ev.Node = -1 // closes from several nodes
				}
			}
		}
		if detected {
			ev.PlannedAt, ev.Settle = ev.At, end.Sub(start)
		}
		res.Events = append(res.Events, ev)
	}
	return most
}

// addEventPart adds to ev what one segment recorded of it, e, whose start
// was shift after ev's and whose series start offset buckets after the
// merged series' (a bucket past last counts in last).
func addEventPart(ev, e *stats.EventReport, shift time.Duration, offset, last int) {
	ev.Affected += e.Affected
	ev.Reconnected += e.Reconnected
	ev.Attempts += e.Attempts
	ev.FirstAttempts += e.FirstAttempts
	ev.Queued += e.Queued
	ev.Breakdown.Merge(e.Breakdown)
	for reason, v := range e.FailedAttempts {
		ev.FailedAttempts[reason] += v
	}
	addShifted(ev.ReconnectAt, e.ReconnectAt, shift)
	if e.CloseAt != nil {
		if ev.CloseAt == nil {
			ev.CloseAt = stats.NewHistogram()
		}
		addShifted(ev.CloseAt, e.CloseAt, shift)
	}
	if e.DialLag != nil {
		// A duration, not an offset from the event's start: no shift.
		if ev.DialLag == nil {
			ev.DialLag = stats.NewHistogram()
		}
		ev.DialLag.Merge(e.DialLag)
	}
	ev.AttemptSeries.AddAll(&e.AttemptSeries, offset, last)
	ev.IntendedSeries.AddAll(&e.IntendedSeries, offset, last)
}

// addShifted merges src into dst with every value moved by d: each of src's
// buckets counts at its highest equivalent value plus d, clamped to the
// histogram's range, as timeToShare reads a bucket. With d = 0 it is an
// exact merge; otherwise each value keeps 3 significant digits.
func addShifted(dst, src *hdrhistogram.Histogram, d time.Duration) {
	if src == nil {
		return
	}
	if d == 0 {
		dst.Merge(src)
		return
	}
	us := int64(math.Round(float64(d) / float64(time.Microsecond)))
	for _, bar := range src.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := min(max(bar.To+us, stats.HistMin), stats.HistMax)
		_ = dst.RecordValues(v, bar.Count) // clamped: cannot fail
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// scaleOrNone writes a segment's --scale, "none" when its timeline is as
// written.
func scaleOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
