package optstruct

import (
	"math"
	"reflect"
	"testing"
)

type opts struct {
	Name    string   `toml:"name" doc:"a name"`
	Token   string   `toml:"token" doc:"a credential" secret:"true"`
	Limit   float64  `toml:"limit" doc:"a limit"`
	Delays  []int    `toml:"delays" doc:"delays"`
	private int      // no toml tag: not an option
	Skipped []string `toml:"-"`
}

func TestDescribe(t *testing.T) {
	o := &opts{Name: "a \"b\" <c>", Limit: math.Inf(1), Delays: []int{0, 2000}}
	if got, want := Keys(o), []string{"name", "token", "limit", "delays"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Keys = %q, want %q", got, want)
	}
	got := Describe(o)
	want := []Option{
		{"name", `"a \"b\" <c>"`, "a name"},
		{"token", `""`, "a credential"},
		{"limit", "inf", "a limit"},
		{"delays", "[0, 2000]", "delays"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Describe = %q, want %q", got, want)
	}
	if !Secret(o, "token") || Secret(o, "name") || Doc(o, "limit") != "a limit" || Tag(o, "nope", "doc") != "" {
		t.Fatal("Secret, Doc or Tag read the wrong tag")
	}
	if e := Bad("limit", "is %d", 3); e.Error() != "limit: is 3" {
		t.Fatalf("Bad = %q", e)
	}
}
