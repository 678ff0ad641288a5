package standalone

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/wsstorm/wsstorm/internal/results"
)

// Ready is what `wsstorm serve --ready-file FILE` writes to FILE, as one
// JSON object, once its nodes and its admin API listen: where clients
// connect, where the admin API is, and which nodes this process serves. It
// is for programs (the --processes supervisor, scripts); the lines on
// stderr say the same for people and may change wording.
type Ready struct {
	URL       string `json:"url"`       // the nodes' ws:// URL
	AdminURL  string `json:"admin_url"` // the admin API's http:// URL
	Nodes     int    `json:"nodes"`
	FirstNode int    `json:"first_node"` // the nodes are FirstNode to FirstNode+Nodes-1
}

// Write writes r to path atomically (a temporary file renamed over it, as
// results files are), so that a reader that finds the file finds all of
// it, readable by other users as results are.
func (r Ready) Write(path string) error {
	return results.WriteFile(path, func(w io.Writer) error { return json.NewEncoder(w).Encode(r) })
}

// ReadReady reads the ready file at path. An error that is
// os.ErrNotExist means the server is not ready yet (or not any more).
func ReadReady(path string) (Ready, error) {
	var r Ready
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if r.URL == "" || r.AdminURL == "" || r.Nodes < 1 {
		return r, fmt.Errorf("%s: not a ready file: %s", path, b)
	}
	return r, nil
}
