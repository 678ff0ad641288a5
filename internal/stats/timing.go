package stats

import "time"

// SampleEvery is how often a run samples the target's per-node counters
// into the recorder's gauges (Recorder.Sample): once per time-series bucket.
const SampleEvery = 100 * time.Millisecond

// ShutdownGrace bounds how long the fleet and the target take to stop once
// a run is over; a run's series keeps this much room past its duration
// (Config.Horizon).
const ShutdownGrace = 15 * time.Second
