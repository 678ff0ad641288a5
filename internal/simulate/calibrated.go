package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Files a calibration writes beside the simulation's results.
const (
	ModelFile       = "model.json"
	CalibrationFile = "calibration.json"
)

// WriteFiles writes into dir the fit (calibration.json) and m, the model
// simulated (model.json): the fitted one with any overrides.
func (c *Calibration) WriteFiles(dir string, m Model) error {
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, CalibrationFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", CalibrationFile, err)
	}
	if err := WriteModel(filepath.Join(dir, ModelFile), m); err != nil {
		return fmt.Errorf("writing %s: %w", ModelFile, err)
	}
	return nil
}

// WriteText writes how well the fitted model matches the run, for people.
func (c *Calibration) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "calibrated from %s in %d simulations: %s\n", c.From, c.Simulations, c.Model)
	fmt.Fprintf(&b, "%-22s %10s %10s\n", "connect latency", "real", "simulated")
	for i, q := range c.Quantiles {
		fmt.Fprintf(&b, "  %-20s %8.3fms %8.3fms\n", "p"+strconv.FormatFloat(q, 'f', -1, 64), c.RealMS[i], c.FittedMS[i])
	}
	fmt.Fprintf(&b, "  %-20s %8.0f/s %8.0f/s\n", "busiest connects", c.RealPeakConnects, c.FittedPeakConnects)
	if c.Unidentified != "" {
		fmt.Fprintf(&b, "note: %s\n", c.Unidentified)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
