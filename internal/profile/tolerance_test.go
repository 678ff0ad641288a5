package profile

import (
	"os"
	"strings"
	"testing"
)

func TestCompareTableValidatedAtLoad(t *testing.T) {
	src := "duration = \"10s\"\n[compare]\n\"reconnect.p99\" = \"+10%\"\n\"reconect.p99\" = \"+10%\"\n\"events.t99\" = \"lots\"\ndefault = \"-5%\"\n"
	_, err := Parse([]byte(src), "c.toml", nil)
	if err == nil {
		t.Fatal("bad [compare] table accepted")
	}
	for _, want := range []string{
		`c.toml:4: compare."reconect.p99": is not a metric a comparison knows; did you mean "reconnect.p99"?`,
		`c.toml:5: compare."events.t99": "lots" is not a tolerance`,
		`c.toml:6: compare.default: "-5%" is not a tolerance`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}

	p, err := Parse([]byte("duration = \"10s\"\n[compare]\n\"reconnect.p99\" = \"+50ms\"\ndefault = \"+25%\"\n"), "ok.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	per, def, ok := p.Tolerances()
	if !ok || def.Percent != 25 || def.IsAbs {
		t.Errorf("default = %+v, %v; want +25%%", def, ok)
	}
	if tol := per["reconnect.p99"]; len(per) != 1 || !tol.IsAbs || tol.Absolute != 50 {
		t.Errorf("per metric = %+v, want reconnect.p99 +50ms only", per)
	}
	d := Defaults()
	if _, _, ok := d.Tolerances(); ok {
		t.Error("a profile without [compare] has a default tolerance")
	}
}

func TestParseTolerance(t *testing.T) {
	cases := []struct {
		in      string
		percent float64
		abs     float64
		isAbs   bool
		err     bool
	}{
		{"+10%", 10, 0, false, false},
		{"10%", 10, 0, false, false},
		{"+0%", 0, 0, false, false},
		{"+50ms", 0, 50, true, false},
		{"+1.5s", 0, 1500, true, false},
		{"+250us", 0, 0.25, true, false},
		{"+5", 0, 5, true, false},
		{" +2.5 ", 0, 2.5, true, false},
		{"-10%", 0, 0, false, true},
		{"-5", 0, 0, false, true},
		{"NaN%", 0, 0, false, true},
		{"+Inf", 0, 0, false, true},
		{"ten", 0, 0, false, true},
		{"", 0, 0, false, true},
		{"+10 %", 0, 0, false, true},
		{"+%", 0, 0, false, true},
	}
	for _, tc := range cases {
		got, err := ParseTolerance(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%q: err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (got.Percent != tc.percent || got.Absolute != tc.abs || got.IsAbs != tc.isAbs) {
			t.Errorf("%q = %+v", tc.in, got)
		}
	}
}

func TestToleranceAllows(t *testing.T) {
	ten, _ := ParseTolerance("+10%")
	fifty, _ := ParseTolerance("+50ms")
	cases := []struct {
		tol       Tolerance
		base, new float64
		want      bool
	}{
		{ten, 100, 110, true},
		{ten, 100, 110.1, false},
		{ten, 100, 50, true},
		{ten, 0, 0, true},
		{ten, 0, 1, false},
		{fifty, 100, 150, true},
		{fifty, 100, 150.5, false},
		{fifty, 0, 49, true},
	}
	for _, tc := range cases {
		if got := tc.tol.Allows(tc.base, tc.new); got != tc.want {
			t.Errorf("%s allows %v → %v = %v, want %v", tc.tol.Text, tc.base, tc.new, got, tc.want)
		}
	}
}

func TestReadTolerances(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The rest of the profile is not read: an unset environment variable in
	// the target does not matter to a comparison.
	good := write("good.toml", "[target]\nmode = \"external\"\nurl = \"wss://${UNSET_FOR_WSSTORM_TEST}/\"\n\n[compare]\n\"events.t99\" = \"+500ms\"\ndefault = \"+20%\"\n")
	per, def, ok, err := ReadTolerances(good)
	if err != nil || !ok || def.Percent != 20 || per["events.t99"].Absolute != 500 {
		t.Fatalf("ReadTolerances = %+v, %+v, %v, %v", per, def, ok, err)
	}
	none := write("none.toml", "duration = \"10s\"\n")
	if per, _, ok, err := ReadTolerances(none); err != nil || ok || len(per) != 0 {
		t.Errorf("no table: %+v, %v, %v", per, ok, err)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"bad.toml", "[compare]\n\"reconect.p99\" = \"+5%\"\n", `bad.toml:2: compare."reconect.p99": is not a metric`},
		{"type.toml", "[compare]\ndefault = 5\n", `type.toml:2: compare.default:`},
		{"syntax.toml", "[compare\n", `invalid TOML`},
	} {
		if _, _, _, err := ReadTolerances(write(tc.name, tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, _, _, err := ReadTolerances(dir + "/missing.toml"); err == nil || !strings.Contains(err.Error(), "cannot read the profile") {
		t.Errorf("missing file: %v", err)
	}
}

func TestToleranceUnits(t *testing.T) {
	for _, tc := range []struct {
		metric, tol string
		ok          bool
	}{
		{"reconnect.p99", "+50ms", true},
		{"events.t99", "+1s", true},
		{"reconnect.p99", "+5", true},
		{"connect_failures", "+5", true},
		{"connect_failures", "+10%", true},
		{"connect_failures", "+2s", false},
		{"events.herd_factor", "+500ms", false},
		{"events.peak_attempt_rate", "+1ms", false},
		{"default", "+25%", true},
		{"default", "+5", true},
		{"default", "+50ms", false},
	} {
		_, err := ParseToleranceFor(tc.metric, tc.tol)
		if (err == nil) != tc.ok {
			t.Errorf("%s = %s: err = %v, want ok %v", tc.metric, tc.tol, err, tc.ok)
		}
	}
	_, err := Parse([]byte("duration = \"10s\"\n[compare]\nconnect_failures = \"+2s\"\n"), "u.toml", nil)
	if err == nil || !strings.Contains(err.Error(), `u.toml:3: compare.connect_failures: "+2s" is a duration, but connect_failures is not a time`) {
		t.Errorf("err = %v", err)
	}
}
