package fleet

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter parses an HTTP Retry-After header value (RFC 9110 §10.2.3):
// delay-seconds or an HTTP-date, taken relative to now. ok is false when the
// value is absent or malformed; a date in the past gives 0. delay-seconds is
// digits only, so "-1" or "1.5" is malformed, not a request to retry at once;
// a value too large for a time.Duration saturates at its maximum.
func RetryAfter(header string, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(header)
	if v == "" {
		return 0, false
	}
	if allDigits(v) {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > math.MaxInt64/uint64(time.Second) {
			return math.MaxInt64, true // digits only: err can only be out of range
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
