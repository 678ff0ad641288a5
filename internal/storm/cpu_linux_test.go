package storm

import "testing"

func TestProcStatCPU(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, all, ok := procStatCPU([]byte("cpu  100 2 30 500 40 5 6 7 9 0\ncpu0 50 1 15 250 20 2 3 3 4 0\n"))
	if !ok || busy != 100+2+30+5+6+7 || all != busy+500+40 {
		t.Errorf("busy %d, all %d, ok %v; want 150, 690, true (guest time is in user already)", busy, all, ok)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"} {
		if _, _, ok := procStatCPU([]byte(bad)); ok {
			t.Errorf("%q read as CPU times", bad)
		}
	}
	if _, _, ok := machineCPU(); !ok {
		t.Error("this machine's /proc/stat does not read")
	}
	if used, ok := processCPU(); !ok || used <= 0 {
		t.Errorf("this process's CPU time %v, ok %v: want some", used, ok)
	}
}
