//go:build !linux

package storm

// availableMemory is unknown on this platform: the memory check is skipped.
func availableMemory() (uint64, bool) { return 0, false }
