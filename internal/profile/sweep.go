package profile

import "math"

// sweep checks [sweep].
func (c *checker) sweep() {
	r := c.p.Sweep.MaxAttemptRate
	if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		c.bad([]string{"sweep", "max_attempt_rate"}, "%v is out of range: the highest peak attempt rate (attempts/s) a recommended setting may reach; use a number ≥ 0 (0: the embedded target's capacity)", r)
	}
}
