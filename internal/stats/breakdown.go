package stats

import "time"

// ReconnectParts takes one reconnect apart. From the close the client
// observed to its next successful handshake, it waited the backoff it chose,
// then the generator's lag until the dial started, then either failed (and
// chose a backoff again, and so on) or completed the handshake. The parts
// sum to the reconnect latency, so a user sees which part is the server's
// (Failed and Handshake), which the client's (Backoff) and which the
// generator's (Lag).
type ReconnectParts struct {
	Backoff   time.Duration // every backoff the client chose, after the close and after each failure
	Lag       time.Duration // the dial lag of every attempt
	Failed    time.Duration // from the start of each failed attempt to its failure
	Handshake time.Duration // the successful attempt: dial start to the handshake's end
}

// Breakdown sums the parts of reconnects.
type Breakdown struct {
	Reconnects int64 // how many reconnects the sums cover
	Backoff    time.Duration
	Lag        time.Duration
	Failed     time.Duration
	Handshake  time.Duration
}

// add adds one reconnect's parts.
func (b *Breakdown) add(p ReconnectParts) {
	b.Reconnects++
	b.Backoff += p.Backoff
	b.Lag += p.Lag
	b.Failed += p.Failed
	b.Handshake += p.Handshake
}

// Merge adds o's sums to b: shards, and the segments of a split run.
func (b *Breakdown) Merge(o Breakdown) {
	b.Reconnects += o.Reconnects
	b.Backoff += o.Backoff
	b.Lag += o.Lag
	b.Failed += o.Failed
	b.Handshake += o.Handshake
}

// Total is the sum of the parts: the reconnect latencies' sum.
func (b *Breakdown) Total() time.Duration { return b.Backoff + b.Lag + b.Failed + b.Handshake }
