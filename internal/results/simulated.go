package results

import (
	"encoding/json"
	"slices"
)

// Simulated marks results that wsstorm simulate computed: no socket was
// opened, the target was its capacity model.
type Simulated struct {
	// Model is the simulator's model of the target and network, as JSON
	// (the simulate package defines it).
	Model json.RawMessage `json:"model"`
	// CalibratedFrom is the result directory the model was fitted to, if any.
	CalibratedFrom string `json:"calibrated_from,omitempty"`
	// WallS is how long the simulation took, seconds; SimEvents how many
	// discrete events it processed.
	WallS     float64 `json:"wall_s"`
	SimEvents int64   `json:"sim_events"`
}

// simulatedSummary copies s for a summary, which shares no memory with its
// run. A missing model is written as null, which stays valid JSON.
func simulatedSummary(s *Simulated) *Simulated {
	if s == nil {
		return nil
	}
	out := *s
	out.Model = slices.Clone(s.Model)
	if len(out.Model) == 0 {
		out.Model = json.RawMessage("null")
	}
	out.WallS = Round(s.WallS, 3)
	return &out
}
