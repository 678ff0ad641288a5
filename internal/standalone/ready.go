package standalone

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// Write writes r to path atomically (a temporary file renamed over it), so
// that a reader that finds the file finds all of it.
func (r Ready) Write(path string) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	// CreateTemp makes the file private (0600); the programs that wait for
	// a server may run as another user.
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(append(b, '\n'))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
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
