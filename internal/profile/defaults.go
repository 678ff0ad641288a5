package profile

import (
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/backoff"
)

// Reconnect strategies (fleet.reconnect.strategy): package backoff's.
const (
	StrategyNone               = backoff.None
	StrategyConstant           = backoff.Constant
	StrategyWindow             = backoff.Window
	StrategyExponential        = backoff.Exponential
	StrategyFullJitter         = backoff.FullJitter
	StrategyEqualJitter        = backoff.EqualJitter
	StrategyDecorrelatedJitter = backoff.DecorrelatedJitter
)

// What a client does after a close (fleet.reconnect.on_close values).
const (
	OnCloseReconnect = "reconnect"
	OnCloseStop      = "stop"
)

// Target modes (target.mode).
const (
	ModeEmbedded = "embedded" // wsstorm runs the target in-process
	ModeExternal = "external" // the fleet connects to target.url
	ModeProxy    = "proxy"    // the fleet connects through wsstorm's chaos proxy to target.url
)

// What a run does when a restart hook fails (target.on_hook_failure).
const (
	OnHookFailureContinue = "continue"
	OnHookFailureAbort    = "abort"
)

// Hook defaults.
const (
	DefaultHookTimeout = time.Minute
	DefaultHookMethod  = "POST"
)

// BuiltinPath is the Path of the built-in default profile.
const BuiltinPath = "(built-in)"

// Defaults returns a profile with every key at its default: the values a
// profile gets for the keys it leaves out. Its Name is "default"; Parse names
// a profile without a name key after its file. It has no chaos steps; see
// StepDefaults for the defaults of a step's keys.
func Defaults() Profile {
	return Profile{
		Name:       "default",
		Duration:   Dur(45 * time.Second),
		Seed:       1,
		Thresholds: map[string]string{},
		Detect:     Detect{Gap: Dur(time.Second), MinCloses: 5},
		Target: Target{
			Mode:          ModeEmbedded,
			Nodes:         3,
			Listen:        "127.0.0.1:0",
			Headers:       map[string]string{},
			OnHookFailure: OnHookFailureContinue,
			Capacity: Capacity{
				AcceptRate:     2000,
				AcceptBurst:    0,
				MaxConns:       0,
				HandshakeDelay: Dur(0),
				RetryAfter:     Dur(time.Second),
			},
		},
		Fleet: Fleet{
			Clients:          2000,
			Ramp:             Dur(5 * time.Second),
			MaxDialing:       0, // as many as the open-file limit allows (storm.AutoDials)
			HandshakeTimeout: Dur(5 * time.Second),
			ReadLimit:        1 << 20,
			WriteTimeout:     Dur(5 * time.Second),
			PingInterval:     Dur(0),
			PongTimeout:      Dur(0),
			Session: Session{
				SendInterval: Dur(time.Second),
				PayloadBytes: 32,
				Echo:         true,
				Lifetime:     Dur(0),
				Pause:        Dur(time.Second),
			},
			Reconnect: Reconnect{
				Strategy:        StrategyWindow,
				Min:             Dur(time.Second),
				Max:             Dur(5 * time.Second),
				Base:            Dur(time.Second),
				Cap:             Dur(30 * time.Second),
				FirstDelay:      Dur(0),
				MaxAttempts:     0,
				HonorRetryAfter: true,
				OnClose:         map[string]string{"1000": OnCloseStop, "1012": OnCloseReconnect},
				OnCloseDefault:  OnCloseReconnect,
			},
		},
	}
}

// StepDefaults returns a step of action with every one of the action's keys
// at its default, and an empty step for an action that does not exist.
func StepDefaults(name string) ChaosStep {
	s := ChaosStep{Action: name}
	if a, ok := action.Lookup(name); ok {
		s.Params = a.Params()
	}
	return s
}

// MaxWriteTimeout is the longest fleet.write_timeout: a write blocked on a
// server that stopped reading holds its client this long.
const MaxWriteTimeout = time.Minute
