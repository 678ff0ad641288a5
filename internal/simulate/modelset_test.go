package simulate

import (
	"strings"
	"testing"
)

// Overrides are checked for their keys and values before anything runs, and
// whole on the model they change: one that does not fit a fitted model is
// refused then.
func TestModelSets(t *testing.T) {
	sets, err := ParseModelSets([]string{"workers=16", "pool=node", "network_median_ms=100"})
	if err != nil {
		t.Fatal(err)
	}
	fitted := Model{NetworkMedianMS: 0.3, NetworkP99MS: 2, ServiceTimeMS: 0.2, Workers: 2, Pool: PoolTarget}
	if _, err := fitted.With(sets); err == nil || !strings.Contains(err.Error(), "network_p99_ms 2 is below network_median_ms 100") {
		t.Errorf("a median above the fitted p99: %v", err)
	}
	m, err := fitted.With(sets[:2])
	if err != nil || m.Workers != 16 || m.Pool != PoolNode || m.ServiceTimeMS != 0.2 {
		t.Errorf("applied: %+v, %v", m, err)
	}
	for _, bad := range []string{"cpus=2", "workers", "workers=1.5", "service_time_ms=fast", "close_rate=NaN"} {
		if _, err := ParseModelSets([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
