//go:build !unix

package storm

// openFileLimit is unknown on this platform: the check is skipped.
func openFileLimit() (uint64, bool) { return 0, false }
