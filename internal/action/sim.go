package action

import "time"

// Sim is the simulator's model of a target, as an action's Simulate drives
// it. Every call acts at the simulated now.
type Sim interface {
	Nodes() int
	// End ends the connections p picks as e says, spread evenly over spread
	// from now.
	End(p Pick, e Ending, spread time.Duration)
	// Refuse takes node out of service until Accept; an error when it is out
	// already (the event then does nothing more, as a target refuses it).
	Refuse(node int) error
	// Accept puts node back in service.
	Accept(node int)
	// Freeze stops node's traffic until Thaw; an error when it is frozen.
	Freeze(node int) error
	// Thaw resumes node's traffic.
	Thaw(node int)
	// After runs f once the simulated clock has advanced by d.
	After(d time.Duration, f func())
}
