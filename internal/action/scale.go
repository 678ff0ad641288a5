package action

import (
	"reflect"
	"time"
)

// durationType is the type of an action's duration keys.
var durationType = reflect.TypeFor[time.Duration]()

// ScaleTimes applies scale to a step's times: at and every duration key of
// its action (a drain, a downtime, an interval, a freeze's for). Every
// duration an action owns is a time of the run's timeline, so a new action's
// duration keys are scaled with no code here; an action whose key is not a
// time of the timeline would need to say so here. It returns the names of
// the keys it scaled, at first; a step whose action is unknown (no
// parameters) has only at scaled.
func ScaleTimes(s *Step, scale func(time.Duration) time.Duration) []string {
	s.At = scale(s.At)
	keys := []string{"at"}
	if !HasParams(s.Params) {
		return keys
	}
	v := reflect.ValueOf(s.Params)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return keys
	}
	v = v.Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if name := TOMLName(f); name != "" && f.Type == durationType {
			d := v.Field(i)
			d.SetInt(int64(scale(time.Duration(d.Int()))))
			keys = append(keys, name)
		}
	}
	return keys
}
