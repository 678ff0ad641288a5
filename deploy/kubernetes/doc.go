// Package kubernetes holds wsstorm's Kubernetes manifests (the YAML files in
// this directory's subdirectories) and the test that decodes them strictly
// and checks how they fit together: the storm Job's segments, the merge
// Job's list, the profile's Services and ports, the volumes.
//
// It is a module of its own, so that the main module does not depend on the
// Kubernetes API packages.
package kubernetes
