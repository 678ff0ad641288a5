package fleet

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 25, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{"seconds", "3", 3 * time.Second, true},
		{"zero", "0", 0, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"surrounding space", " 120 ", 2 * time.Minute, true},
		{"seconds beyond a Duration saturate", "99999999999999999999", math.MaxInt64, true},
		{"seconds just beyond a Duration saturate", "9223372037", math.MaxInt64, true},
		{"largest seconds a Duration holds", "9223372036", 9223372036 * time.Second, true},
		{"negative is malformed", "-1", 0, false},
		{"plus sign is malformed", "+3", 0, false},
		{"fraction is malformed", "1.5", 0, false},
		{"exponent is malformed", "1e3", 0, false},
		{"word", "abc", 0, false},
		{"absent", "", 0, false},
		{"blank", "   ", 0, false},
		{"date in the future", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"date now", now.Format(http.TimeFormat), 0, true},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"RFC 850 date", "Tuesday, 25-Nov-25 14:00:30 GMT", 30 * time.Second, true},
		{"asctime date", "Tue Nov 25 14:01:00 2025", time.Minute, true},
		{"bad date", "Tue, 32 Nov 2025 14:00:00 GMT", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter(%q) = %v, %t; want %v, %t", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}
