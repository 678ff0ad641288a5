package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// decoder decodes one document into the typed object its apiVersion and kind
// name, strictly: an unknown or repeated field is an error.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// knownKinds are the kinds the checks below understand. Another kind is an
// error until the test learns what to check about it.
var knownKinds = []schema.GroupVersionKind{
	corev1.SchemeGroupVersion.WithKind("Namespace"),
	corev1.SchemeGroupVersion.WithKind("ConfigMap"),
	corev1.SchemeGroupVersion.WithKind("Service"),
	corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"),
	corev1.SchemeGroupVersion.WithKind("Pod"),
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
	appsv1.SchemeGroupVersion.WithKind("Deployment"),
	batchv1.SchemeGroupVersion.WithKind("Job"),
	networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"),
}

// Figures of wsstorm's own limit check (internal/storm/limits.go), which the
// pods' resources must leave room for: the check reads the node's memory,
// not the container's limit, so it cannot catch a limit set too low.
const (
	portsPerAddress = 28232     // source ports of one address to one destination
	bytesPerConn    = 16 << 10  // per client in the fleet, per connection in the target
	baseBytes       = 128 << 20 // the runtime and recorder
	defaultClients  = 2000      // fleet.clients when the profile leaves it out
	defaultNodes    = 3         // wsstorm serve --nodes when left out
)

// object is one document of the manifests.
type object struct {
	file      string // slash-separated, relative to this directory
	kind      string
	name      string
	namespace string
	obj       runtime.Object
}

func (o *object) String() string { return fmt.Sprintf("%s: %s %s", o.file, o.kind, o.name) }

// workload is an object that runs pods.
type workload struct {
	*object
	labels   map[string]string // the pods' labels
	spec     *corev1.PodSpec
	replicas int  // pods at once
	indexed  bool // an Indexed Job: JOB_COMPLETION_INDEX is set in its containers
	sts      *appsv1.StatefulSet
	job      *batchv1.Job
}

// manifests are every object of the YAML files under this directory.
type manifests struct {
	objects    []*object
	namespace  string // of the Namespace object, or "" without one
	configMaps map[string]*corev1.ConfigMap
	services   map[string]*corev1.Service
	claims     map[string]*corev1.PersistentVolumeClaim
	policies   map[string]*networkingv1.NetworkPolicy
	workloads  []*workload
	readme     string // README.md, whose commands create some objects
}

var loadOnce = sync.OnceValues(func() (*manifests, error) { return load(".") })

// mustLoad returns the manifests, or stops the test if any document fails to
// decode (TestManifestsDecodeStrictly lists each).
func mustLoad(t *testing.T) *manifests {
	t.Helper()
	m, err := loadOnce()
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) && len(joined.Unwrap()) > 1 {
		t.Fatalf("the manifests do not load (TestManifestsDecodeStrictly lists all %d problems); the first: %v", len(joined.Unwrap()), joined.Unwrap()[0])
	} else if err != nil {
		t.Fatalf("the manifests do not load: %v", err)
	}
	return m
}

func load(dir string) (*manifests, error) {
	m := &manifests{
		configMaps: map[string]*corev1.ConfigMap{},
		services:   map[string]*corev1.Service{},
		claims:     map[string]*corev1.PersistentVolumeClaim{},
		policies:   map[string]*networkingv1.NetworkPolicy{},
	}
	var errs []error
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		objs, ferrs := decodeFile(p, filepath.ToSlash(rel))
		m.objects = append(m.objects, objs...)
		errs = append(errs, ferrs...)
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if len(m.objects) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no YAML documents found"))
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		errs = append(errs, fmt.Errorf("README.md: %w", err))
	}
	m.readme = string(readme)
	errs = append(errs, m.index()...)
	return m, errors.Join(errs...)
}

// decodeFile decodes every document of a file; empty ones (only comments)
// are skipped, as kubectl skips them.
func decodeFile(p, rel string) ([]*object, []error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, []error{err}
	}
	var objs []*object
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", rel, doc, err))
			break
		}
		if j, err := yaml.YAMLToJSON(raw); err == nil && bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue
		}
		o, err := decodeDocument(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", rel, doc, err))
			continue
		}
		o.file = rel
		objs = append(objs, o)
	}
	return objs, errs
}

func decodeDocument(raw []byte) (*object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return nil, errors.New("apiVersion and kind are required")
	}
	gvk := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
	if !slices.Contains(knownKinds, gvk) {
		var known []string
		for _, k := range knownKinds {
			known = append(known, k.Kind+" ("+k.GroupVersion().String()+")")
		}
		return nil, fmt.Errorf("kind %s (apiVersion %s) is not one this test knows: add it to knownKinds, with checks of its wiring; known: %s",
			tm.Kind, tm.APIVersion, strings.Join(known, ", "))
	}
	obj, _, err := decoder.Decode(raw, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s does not decode strictly into %s: %w", tm.Kind, gvk.GroupVersion(), err)
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if acc.GetName() == "" {
		return nil, fmt.Errorf("%s has no metadata.name", tm.Kind)
	}
	return &object{kind: tm.Kind, name: acc.GetName(), namespace: acc.GetNamespace(), obj: obj}, nil
}

// index sorts the objects by kind and checks their names and namespaces.
func (m *manifests) index() []error {
	var errs []error
	seen := map[string]*object{}
	namespaces := 0
	for _, o := range m.objects {
		key := o.kind + "/" + o.name
		if prev, ok := seen[key]; ok {
			errs = append(errs, fmt.Errorf("%s: the same %s name as in %s: kubectl apply would make them one object", o, o.kind, prev.file))
		}
		seen[key] = o
		if o.kind == "Namespace" {
			m.namespace = o.name
			namespaces++
		}
	}
	if namespaces > 1 {
		errs = append(errs, fmt.Errorf("%d Namespace objects: the short Service names in the profile resolve within one namespace", namespaces))
	}
	for _, o := range m.objects {
		if o.kind != "Namespace" && o.namespace != m.namespace {
			errs = append(errs, fmt.Errorf("%s: namespace %q, want %q (the Namespace object's): the Jobs reach the target by short Service names, which resolve only within one namespace",
				o, o.namespace, m.namespace))
		}
		switch obj := o.obj.(type) {
		case *corev1.ConfigMap:
			m.configMaps[o.name] = obj
		case *corev1.Service:
			m.services[o.name] = obj
		case *corev1.PersistentVolumeClaim:
			m.claims[o.name] = obj
		case *networkingv1.NetworkPolicy:
			m.policies[o.name] = obj
		case *corev1.Pod:
			m.workloads = append(m.workloads, &workload{object: o, labels: obj.Labels, spec: &obj.Spec, replicas: 1})
		case *appsv1.Deployment:
			m.workloads = append(m.workloads, &workload{object: o, labels: obj.Spec.Template.Labels, spec: &obj.Spec.Template.Spec, replicas: int(deref(obj.Spec.Replicas, 1))})
		case *appsv1.StatefulSet:
			m.workloads = append(m.workloads, &workload{object: o, labels: obj.Spec.Template.Labels, spec: &obj.Spec.Template.Spec, replicas: int(deref(obj.Spec.Replicas, 1)), sts: obj})
		case *batchv1.Job:
			indexed := obj.Spec.CompletionMode != nil && *obj.Spec.CompletionMode == batchv1.IndexedCompletion
			m.workloads = append(m.workloads, &workload{object: o, labels: obj.Spec.Template.Labels, spec: &obj.Spec.Template.Spec, replicas: int(deref(obj.Spec.Parallelism, 1)), indexed: indexed, job: obj})
		}
	}
	return errs
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// command is a container that runs wsstorm, with its arguments parsed.
type command struct {
	w          *workload
	c          *corev1.Container
	sub        string              // the subcommand: run, serve, merge, ...
	flags      map[string][]string // by name without dashes, in order given
	positional []string
}

func (c *command) String() string {
	return fmt.Sprintf("%s, container %s (wsstorm %s)", c.w, c.c.Name, c.sub)
}

// flag returns the last value given for a flag.
func (c *command) flag(name string) (string, bool) {
	v := c.flags[name]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// boolFlags are wsstorm's flags that take no value.
var boolFlags = map[string]bool{"quiet": true, "share-port": true, "insecure-skip-verify": true, "force": true, "help": true, "h": true}

// wsstorm returns the containers that run the wsstorm image (by the image's
// name), with their arguments: the image's entrypoint is /wsstorm.
func (m *manifests) wsstorm() []*command {
	var cmds []*command
	for _, w := range m.workloads {
		for i := range w.spec.Containers {
			c := &w.spec.Containers[i]
			if imageName(c.Image) != "wsstorm" {
				continue
			}
			argv := slices.Concat(c.Command, c.Args)
			if len(c.Command) > 0 && path.Base(c.Command[0]) == "wsstorm" {
				argv = argv[1:]
			}
			cmd := &command{w: w, c: c, flags: map[string][]string{}}
			if len(argv) > 0 {
				cmd.sub, argv = argv[0], argv[1:]
			}
			for i := 0; i < len(argv); i++ {
				a := argv[i]
				if a == "--" {
					cmd.positional = append(cmd.positional, argv[i+1:]...)
					break
				}
				if !strings.HasPrefix(a, "-") || a == "-" {
					cmd.positional = append(cmd.positional, a)
					continue
				}
				name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if !hasValue && !boolFlags[name] && i+1 < len(argv) {
					value = argv[i+1]
					i++
				}
				cmd.flags[name] = append(cmd.flags[name], value)
			}
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}

// imageName is an image reference's last path element without tag or digest.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	name := path.Base(ref)
	name, _, _ = strings.Cut(name, ":")
	return name
}

// only returns the one container running `wsstorm sub`.
func (m *manifests) only(t *testing.T, sub string) *command {
	t.Helper()
	var found []*command
	for _, c := range m.wsstorm() {
		if c.sub == sub {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one container running `wsstorm %s`, found %d: %v (a container runs wsstorm when its image is named wsstorm, e.g. registry.example.test/wsstorm:v1)",
			sub, len(found), found)
	}
	return found[0]
}

// varRef matches a $(VAR) reference that Kubernetes expands in command and
// args; $$(VAR) is an escaped, literal one.
var varRef = regexp.MustCompile(`\$?\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func varRefs(s string) []string {
	var names []string
	for _, mm := range varRef.FindAllStringSubmatch(s, -1) {
		if !strings.HasPrefix(mm[0], "$$") {
			names = append(names, mm[1])
		}
	}
	return names
}

// completionIndex is the variable the Job controller sets in the containers
// of an Indexed Job's pods.
const completionIndex = "JOB_COMPLETION_INDEX"

// env returns the container's definition of variable name; for an Indexed
// Job's JOB_COMPLETION_INDEX, which the Job controller adds, a stand-in.
func (w *workload) env(c *corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	if name == completionIndex && w.indexed {
		return corev1.EnvVar{Name: name, Value: "0"}, true
	}
	return corev1.EnvVar{}, false
}

// createdByReadme says whether README.md's commands create ConfigMap name
// with key (kubectl create configmap NAME --from-literal=KEY=...).
func (m *manifests) createdByReadme(name, key string) bool {
	re := regexp.MustCompile(`kubectl\b[^\n]*\bcreate configmap ` + regexp.QuoteMeta(name) + `\b[^\n]*--from-literal=` + regexp.QuoteMeta(key) + `=`)
	return re.MatchString(m.readme)
}

// checkEnvSource checks where a variable's value comes from: a ConfigMap key
// must exist, in the manifests or created by a README command.
func (m *manifests) checkEnvSource(who string, e corev1.EnvVar) error {
	if e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil {
		return nil
	}
	ref := e.ValueFrom.ConfigMapKeyRef
	if deref(ref.Optional, false) {
		return fmt.Errorf("%s: %s comes from ConfigMap %s with optional: true; without the ConfigMap the variable is unset and $(%s) stays literal text",
			who, e.Name, ref.Name, e.Name)
	}
	if cm, ok := m.configMaps[ref.Name]; ok {
		if _, ok := cm.Data[ref.Key]; !ok {
			return fmt.Errorf("%s: %s comes from key %q of ConfigMap %s, which has no such key (it has %v)", who, e.Name, ref.Key, ref.Name, slices.Sorted(maps.Keys(cm.Data)))
		}
		return nil
	}
	if !m.createdByReadme(ref.Name, ref.Key) {
		return fmt.Errorf("%s: %s comes from key %q of ConfigMap %s, which is neither in the manifests nor created by a `kubectl create configmap %s --from-literal=%s=...` command in README.md",
			who, e.Name, ref.Key, ref.Name, ref.Name, ref.Key)
	}
	return nil
}

// location is where a path in a container lands: a volume and the path in it.
type location struct {
	mount  *corev1.VolumeMount
	volume *corev1.Volume
	rel    string // in the volume, after subPath
}

// key names the storage a location is on, so that paths of different pods
// can be compared: the claim (or volume) and the path in it.
func (l location) key() string {
	if pvc := l.volume.PersistentVolumeClaim; pvc != nil {
		return "claim " + pvc.ClaimName + ":" + l.rel
	}
	return "volume " + l.volume.Name + ":" + l.rel
}

// locate finds the volume mount a path in container c is on.
func (w *workload) locate(c *corev1.Container, p string) (location, error) {
	p = path.Clean(p)
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		mp := path.Clean(vm.MountPath)
		if (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) && (best == nil || len(mp) > len(path.Clean(best.MountPath))) {
			best = vm
		}
	}
	if best == nil {
		return location{}, fmt.Errorf("%s is on no volume of container %s (its mounts: %v): it would be on the container's own filesystem, read-only or lost with the pod",
			p, c.Name, mountPaths(c))
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, path.Clean(best.MountPath)), "/")
	rel = path.Join(best.SubPath, rel)
	for i := range w.spec.Volumes {
		if v := &w.spec.Volumes[i]; v.Name == best.Name {
			return location{mount: best, volume: v, rel: rel}, nil
		}
	}
	return location{}, fmt.Errorf("container %s mounts volume %q at %s, but the pod has no such volume", c.Name, best.Name, best.MountPath)
}

func mountPaths(c *corev1.Container) []string {
	var ps []string
	for _, vm := range c.VolumeMounts {
		ps = append(ps, vm.MountPath)
	}
	return ps
}

// writableClaim checks that a location is on a claim of the manifests,
// mounted writable, shared by several machines when several pods write.
func (m *manifests) writableClaim(w *workload, l location) error {
	pvc := l.volume.PersistentVolumeClaim
	if pvc == nil {
		return fmt.Errorf("volume %q is not a PersistentVolumeClaim: results written there are not shared with the merge and are lost with the pod", l.volume.Name)
	}
	claim, ok := m.claims[pvc.ClaimName]
	if !ok {
		return fmt.Errorf("volume %q refers to PersistentVolumeClaim %q, which is not in the manifests", l.volume.Name, pvc.ClaimName)
	}
	if l.mount.ReadOnly || pvc.ReadOnly {
		return fmt.Errorf("volume %q (claim %s) is mounted read-only at %s", l.volume.Name, pvc.ClaimName, l.mount.MountPath)
	}
	if w.replicas > 1 && !slices.Contains(claim.Spec.AccessModes, corev1.ReadWriteMany) {
		return fmt.Errorf("claim %s has access modes %v, but %d pods write to it at once, on several machines: it must be ReadWriteMany", pvc.ClaimName, claim.Spec.AccessModes, w.replicas)
	}
	return nil
}

// segments returns the N of the storm's --segment $(JOB_COMPLETION_INDEX)/N.
func segments(run *command) (int, error) {
	seg, ok := run.flag("segment")
	if !ok {
		return 0, errors.New("--segment is missing: each pod must run its own segment of the fleet, --segment $(JOB_COMPLETION_INDEX)/N")
	}
	mm := regexp.MustCompile(`^\$\(` + completionIndex + `\)/([0-9]+)$`).FindStringSubmatch(seg)
	if mm == nil {
		return 0, fmt.Errorf("--segment %q: want $(%s)/N, so that pod i of the Indexed Job runs segment i of N", seg, completionIndex)
	}
	n, err := strconv.Atoi(mm[1])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--segment %q: N must be a whole number of at least 1", seg)
	}
	return n, nil
}

// segmentOut returns the storm's --out for segment i.
func segmentOut(run *command, i int) (string, error) {
	out, ok := run.flag("out")
	if !ok {
		return "", errors.New("--out is missing: the results would go to the container's filesystem, under results/, and be lost with the pod")
	}
	if !slices.Contains(varRefs(out), completionIndex) {
		return "", fmt.Errorf("--out %q does not hold $(%s): every segment would write the same directory", out, completionIndex)
	}
	return strings.ReplaceAll(out, "$("+completionIndex+")", strconv.Itoa(i)), nil
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m, err := load(".")
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			t.Error(e)
		}
	} else if err != nil {
		t.Error(err)
	}
	if m != nil {
		t.Logf("%d objects decoded", len(m.objects))
	}
}

func TestStormJob(t *testing.T) {
	m := mustLoad(t)
	run := m.only(t, "run")
	job := run.w.job
	if job == nil {
		t.Fatalf("%s: wsstorm run must run in a Job, one pod per segment, not a %s", run, run.w.kind)
	}
	if !run.w.indexed {
		t.Errorf("%s: completionMode must be Indexed: the completion index is the segment's index", run.w)
	}
	n, err := segments(run)
	if err != nil {
		t.Fatalf("%s: %v", run, err)
	}
	completions, parallelism := job.Spec.Completions, job.Spec.Parallelism
	if completions == nil || parallelism == nil || int(*completions) != n || int(*parallelism) != n {
		t.Errorf("%s: completions %s and parallelism %s must both be %d, the N of --segment: one pod per segment, all running at once (a segment started late misses --start-at)",
			run.w, fmtPtr(completions), fmtPtr(parallelism), n)
	}
	if p := run.w.spec.RestartPolicy; p != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never: a segment restarted in place would start after --start-at", run.w, p)
	}
	if l := job.Spec.BackoffLimitPerIndex; l == nil || *l != 0 {
		t.Errorf("%s: backoffLimitPerIndex %s, want 0: a segment run again starts after --start-at, and with the Job-wide backoffLimit one failed segment (exit 1, a threshold missed) stops the others mid-run",
			run.w, fmtPtr(l))
	}

	if chaos, ok := run.flag("chaos"); ok && chaos == "on" && n > 1 {
		t.Errorf("%s: --chaos on in every one of the %d segments: each would run the restart hooks, %d restarts per event; leave it out (segment 0 drives the chaos)", run, n, n)
	}

	start, ok := run.flag("start-at")
	switch refs := varRefs(start); {
	case !ok:
		t.Errorf("%s: --start-at is missing: each segment would start its timeline when its pod starts, and their chaos events would not line up", run)
	case len(refs) != 1 || start != "$("+refs[0]+")":
		t.Errorf("%s: --start-at %q: want $(VAR), a variable set for each run, so that one Job file serves every run", run, start)
	default:
		e, ok := run.w.env(run.c, refs[0])
		if !ok {
			t.Errorf("%s: --start-at $(%s): %s is not in the container's env, so wsstorm would get the literal text", run, refs[0], refs[0])
		} else if e.Value != "" {
			if _, err := time.Parse(time.RFC3339, e.Value); err != nil {
				t.Errorf("%s: %s = %q is not an RFC 3339 time", run, refs[0], e.Value)
			}
		} else if e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil {
			t.Errorf("%s: %s has neither a value nor a ConfigMap key as its source", run, refs[0])
		} else if err := m.checkEnvSource(run.String(), e); err != nil {
			t.Error(err)
		}
	}

	out, err := segmentOut(run, 0)
	if err != nil {
		t.Fatalf("%s: %v", run, err)
	}
	loc, err := run.w.locate(run.c, out)
	if err == nil {
		err = m.writableClaim(run.w, loc)
	}
	if err != nil {
		t.Errorf("%s: --out: %v", run, err)
	}
}

func TestMergeJob(t *testing.T) {
	m := mustLoad(t)
	run, merge := m.only(t, "run"), m.only(t, "merge")
	n, err := segments(run)
	if err != nil {
		t.Fatalf("%s: %v", run, err)
	}
	if merge.w.job == nil {
		t.Errorf("%s: wsstorm merge should run in a Job, once, after the storm; not a %s", merge, merge.w.kind)
	} else if merge.w.replicas != 1 {
		t.Errorf("%s: parallelism %d: one merge is enough", merge, merge.w.replicas)
	}

	want := map[string]int{} // where segment i's results are, from the storm's side
	for i := range n {
		out, err := segmentOut(run, i)
		if err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		loc, err := run.w.locate(run.c, out)
		if err != nil {
			t.Fatalf("%s: --out: %v", run, err)
		}
		want[loc.key()] = i
	}
	listed := map[int]int{}
	for _, dir := range merge.positional {
		loc, err := merge.w.locate(merge.c, dir)
		if err != nil {
			t.Errorf("%s: %v", merge, err)
			continue
		}
		i, ok := want[loc.key()]
		if !ok {
			t.Errorf("%s: %s (%s) is none of the storm's %d segments' --out", merge, dir, loc.key(), n)
			continue
		}
		listed[i]++
	}
	for i := range n {
		switch listed[i] {
		case 0:
			t.Errorf("%s: segment %d of %d is missing from the list: wsstorm merge refuses a missing segment", merge, i, n)
		case 1:
		default:
			t.Errorf("%s: segment %d is listed %d times: wsstorm merge refuses a repeated segment", merge, i, listed[i])
		}
	}

	out, ok := merge.flag("out")
	if !ok {
		t.Fatalf("%s: --out is missing: wsstorm merge requires it", merge)
	}
	loc, err := merge.w.locate(merge.c, out)
	if err == nil {
		err = m.writableClaim(merge.w, loc)
	}
	if err != nil {
		t.Errorf("%s: --out: %v", merge, err)
	} else if i, ok := want[loc.key()]; ok {
		t.Errorf("%s: --out %s is segment %d's directory: the merge would replace that segment's files", merge, out, i)
	}
}

// stormProfile is what the checks read of the profile; wsstorm itself checks
// the rest (TestWsstormAcceptsManifests).
type stormProfile struct {
	Target struct {
		Mode  string
		URL   string
		URLs  []string
		Nodes []struct {
			Name    string
			Command []string
			HTTP    *struct{ URL string }
		}
	}
	Fleet struct{ Clients int }
}

// profileSource is the profile's text and where it is in the manifests.
type profileSource struct {
	text  string
	where string // "ConfigMap NAME, key KEY"
	// lines says where line 1 of text is in its YAML file, if found: "; its
	// line n is line n+K of FILE".
	lines string
}

// profile finds the file wsstorm run reads in the ConfigMap mounted there,
// and decodes it.
func (m *manifests) profile(t *testing.T) (*stormProfile, profileSource) {
	t.Helper()
	run := m.only(t, "run")
	if len(run.positional) != 1 {
		t.Fatalf("%s: want one PROFILE argument, got %q", run, run.positional)
	}
	file := run.positional[0]
	loc, err := run.w.locate(run.c, file)
	if err != nil {
		t.Fatalf("%s: the profile %s: %v", run, file, err)
	}
	src := loc.volume.ConfigMap
	if src == nil {
		t.Fatalf("%s: the profile %s is on volume %q, which is not a ConfigMap", run, file, loc.volume.Name)
	}
	cm, ok := m.configMaps[src.Name]
	if !ok {
		t.Fatalf("%s: volume %q refers to ConfigMap %s, which is not in the manifests", run, loc.volume.Name, src.Name)
	}
	key := loc.rel
	if len(src.Items) > 0 {
		key = ""
		for _, it := range src.Items {
			if path.Clean(it.Path) == loc.rel {
				key = it.Key
			}
		}
		if key == "" {
			t.Fatalf("%s: volume %q projects only %v of ConfigMap %s, none at %s", run, loc.volume.Name, src.Items, src.Name, loc.rel)
		}
	}
	text, ok := cm.Data[key]
	if !ok {
		t.Fatalf("%s: it reads %s, which is key %q of ConfigMap %s, but the ConfigMap has only %v",
			run, file, key, src.Name, slices.Sorted(maps.Keys(cm.Data)))
	}
	ps := profileSource{text: text, where: fmt.Sprintf("ConfigMap %s, key %s", src.Name, key)}
	for _, o := range m.objects {
		if o.kind == "ConfigMap" && o.name == src.Name {
			ps.lines = blockStart(o.file, key)
		}
	}
	var p stormProfile
	if _, err := toml.Decode(text, &p); err != nil {
		t.Fatalf("%s: the profile is not valid TOML%s: %v", ps.where, ps.lines, err)
	}
	if p.Fleet.Clients == 0 {
		p.Fleet.Clients = defaultClients
	}
	return &p, ps
}

// blockStart says which line of file a ConfigMap key's block scalar
// (key: |) starts on, so that line numbers in its text can be found there.
func blockStart(file, key string) string {
	data, err := os.ReadFile(filepath.FromSlash(file))
	if err != nil {
		return ""
	}
	re := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key) + `"?:\s*[|>][-+]?\s*$`)
	for i, line := range strings.Split(string(data), "\n") {
		if re.MatchString(line) {
			return fmt.Sprintf(" (its line n is line n+%d of %s)", i+1, file)
		}
	}
	return ""
}

// reached is where a URL leads through the manifests' Services, as the
// cluster's DNS and kube-proxy would take it.
type reached struct {
	svc  *corev1.Service
	w    *workload
	pod  int // the pod's ordinal when the host names one pod; -1: any of w's
	c    *corev1.Container
	port int32 // the container port
}

// reach resolves a URL's host (a Service, or one pod of a StatefulSet under
// its headless Service, in short or full form) and port.
func (m *manifests) reach(raw string) (reached, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return reached{}, err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ws": "80", "http": "80", "wss": "443", "https": "443"}[u.Scheme]
	}
	pn, err := strconv.Atoi(port)
	if err != nil {
		return reached{}, fmt.Errorf("port %q of %s", port, u.Host)
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	parts := strings.Split(host, ".")
	if i := slices.Index(parts, "svc"); i >= 2 {
		parts = parts[:i] // name.namespace.svc.<cluster domain>, or pod.name.namespace.svc...
		if ns := parts[len(parts)-1]; ns != m.namespace {
			return reached{}, fmt.Errorf("host %s is in namespace %q, but the manifests are in %q", host, ns, m.namespace)
		}
		parts = parts[:len(parts)-1]
	} else if len(parts) == 2 && parts[1] == m.namespace {
		parts = parts[:1] // name.namespace
	}
	r := reached{pod: -1}
	var svcName string
	switch len(parts) {
	case 1:
		svcName = parts[0]
	case 2:
		svcName = parts[1]
		pod := parts[0]
		for _, w := range m.workloads {
			if w.sts == nil || w.sts.Spec.ServiceName != svcName {
				continue
			}
			k, err := strconv.Atoi(strings.TrimPrefix(pod, w.name+"-"))
			if !strings.HasPrefix(pod, w.name+"-") || err != nil || k < 0 || k >= w.replicas {
				return reached{}, fmt.Errorf("host %s: %s is not a pod of StatefulSet %s (its pods are %s-0 to %s-%d)", host, pod, w.name, w.name, w.name, w.replicas-1)
			}
			r.w, r.pod = w, k
		}
		if r.w == nil {
			return reached{}, fmt.Errorf("host %s is neither a Service of namespace %s nor a StatefulSet pod's name (<pod>.<its serviceName>): no StatefulSet has serviceName %s",
				host, m.namespace, svcName)
		}
	default:
		return reached{}, fmt.Errorf("host %s is no Service name of these manifests", host)
	}
	svc, ok := m.services[svcName]
	if !ok {
		return reached{}, fmt.Errorf("host %s: no Service %s in the manifests (they have %v)", host, svcName, slices.Sorted(maps.Keys(m.services)))
	}
	r.svc = svc
	if r.pod >= 0 && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return reached{}, fmt.Errorf("host %s: Service %s is not headless (clusterIP: None), so it gives the pods no names", host, svcName)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == int32(pn) {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return reached{}, fmt.Errorf("host %s: Service %s has no port %d (it has %v)", host, svcName, pn, servicePorts(svc))
	}
	selected := m.selected(svc)
	if r.w != nil && !slices.Contains(selected, r.w) {
		return reached{}, fmt.Errorf("host %s: Service %s does not select the pods of %s", host, svcName, r.w)
	}
	if r.w == nil {
		if len(selected) != 1 {
			return reached{}, fmt.Errorf("host %s: Service %s selects the pods of %d workloads, want one: %v", host, svcName, len(selected), selected)
		}
		r.w = selected[0]
	}
	r.c, r.port, err = targetPort(r.w, *sp)
	if err != nil {
		return reached{}, fmt.Errorf("host %s: Service %s port %d: %w", host, svcName, pn, err)
	}
	return r, nil
}

func servicePorts(svc *corev1.Service) []int32 {
	var ps []int32
	for _, p := range svc.Spec.Ports {
		ps = append(ps, p.Port)
	}
	return ps
}

// selected returns the workloads whose pods a Service selects.
func (m *manifests) selected(svc *corev1.Service) []*workload {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var ws []*workload
	for _, w := range m.workloads {
		if sel.Matches(labels.Set(w.labels)) {
			ws = append(ws, w)
		}
	}
	return ws
}

// targetPort finds the container port a Service port sends to.
func targetPort(w *workload, sp corev1.ServicePort) (*corev1.Container, int32, error) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int && tp.IntVal == 0 {
		tp = intstr.FromInt32(sp.Port) // unset: the same as port
	}
	for i := range w.spec.Containers {
		c := &w.spec.Containers[i]
		for _, cp := range c.Ports {
			if (tp.Type == intstr.String && cp.Name == tp.StrVal) || (tp.Type == intstr.Int && cp.ContainerPort == tp.IntVal) {
				return c, cp.ContainerPort, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("targetPort %s is no container port of %s", tp.String(), w)
}

func TestServices(t *testing.T) {
	m := mustLoad(t)
	if len(m.services) == 0 {
		t.Fatal("no Service in the manifests")
	}
	for _, name := range slices.Sorted(maps.Keys(m.services)) {
		svc := m.services[name]
		if len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s has no selector: it would send traffic nowhere", name)
			continue
		}
		ws := m.selected(svc)
		if len(ws) != 1 {
			t.Errorf("Service %s: selector %v matches the pods of %d workloads, want exactly one: %v", name, svc.Spec.Selector, len(ws), ws)
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if _, _, err := targetPort(ws[0], sp); err != nil {
				t.Errorf("Service %s port %d: %v", name, sp.Port, err)
			}
		}
	}
}

// TestWorkloadSelectors: a StatefulSet's or Deployment's selector must match
// its own pods, or the API server refuses it.
func TestWorkloadSelectors(t *testing.T) {
	m := mustLoad(t)
	for _, w := range m.workloads {
		var sel *metav1.LabelSelector
		switch obj := w.obj.(type) {
		case *appsv1.StatefulSet:
			sel = obj.Spec.Selector
		case *appsv1.Deployment:
			sel = obj.Spec.Selector
		default:
			continue
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		switch {
		case sel == nil || err != nil || s.Empty():
			t.Errorf("%s: selector %v: want the labels of its pods (%v)", w, sel, err)
		case !s.Matches(labels.Set(w.labels)):
			t.Errorf("%s: selector %s does not match its pods' labels %v", w, s, w.labels)
		}
	}
}

// serve describes the target: the wsstorm serve workload, its ports and how
// its pods number their nodes.
type serve struct {
	*command
	listen, admin int32
	nodes         int // per pod
	// firstIsOrdinal says --first-node is the StatefulSet pod's ordinal;
	// otherwise every pod numbers its nodes from first.
	firstIsOrdinal bool
	first          int
	problems       []string // that do not stop the other checks; TestTarget reports them
}

// nodesOf returns the node numbers pod k (or the only pod, -1) holds.
func (s *serve) nodesOf(k int) (lo, hi int) {
	first := s.first
	if s.firstIsOrdinal {
		first = max(k, 0)
	}
	return first, first + s.nodes
}

func (m *manifests) target(t *testing.T) *serve {
	t.Helper()
	cmd := m.only(t, "serve")
	s := &serve{command: cmd, nodes: defaultNodes}
	for _, f := range []struct {
		name string
		port *int32
	}{{"listen", &s.listen}, {"admin", &s.admin}} {
		v, ok := cmd.flag(f.name)
		host, port, err := net.SplitHostPort(v)
		pn, perr := strconv.Atoi(port)
		switch {
		case !ok:
			t.Fatalf("%s: --%s is missing: wsstorm serve would pick a random loopback port that no Service can reach", cmd, f.name)
		case err != nil || perr != nil || pn == 0:
			t.Fatalf("%s: --%s %q: want HOST:PORT with a fixed port, for the Services to send to", cmd, f.name, v)
		case host == "" || host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback():
			t.Fatalf("%s: --%s %s is loopback (a missing host is 127.0.0.1), which other pods cannot reach: use 0.0.0.0:%d", cmd, f.name, v, pn)
		}
		*f.port = int32(pn)
		declared := false
		for _, cp := range cmd.c.Ports {
			declared = declared || cp.ContainerPort == int32(pn)
		}
		if !declared {
			s.problems = append(s.problems, fmt.Sprintf("%s: --%s port %d is not among the container's ports, which the Services' targetPorts name", cmd, f.name, pn))
		}
	}
	if v, ok := cmd.flag("nodes"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s: --nodes %q is not a number of nodes", cmd, v)
		}
		s.nodes = n
	}
	if v, ok := cmd.flag("first-node"); ok {
		if refs := varRefs(v); len(refs) == 1 && v == "$("+refs[0]+")" {
			e, ok := cmd.w.env(cmd.c, refs[0])
			const podIndex = "metadata.labels['apps.kubernetes.io/pod-index']"
			if !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != podIndex {
				t.Fatalf("%s: --first-node $(%s): %s must come from the pod's ordinal, fieldRef %s", cmd, refs[0], refs[0], podIndex)
			}
			if cmd.w.sts == nil {
				t.Fatalf("%s: --first-node from the pod index needs a StatefulSet, whose pods have one", cmd)
			}
			s.firstIsOrdinal = true
		} else if s.first, ok = atoi(v); !ok {
			t.Fatalf("%s: --first-node %q is neither a number nor $(VAR)", cmd, v)
		}
	}
	if s.firstIsOrdinal && s.nodes != 1 {
		t.Fatalf("%s: --first-node is the pod's ordinal, so pod k holds nodes k to k+%d: with --nodes %d the pods' node numbers overlap; use --nodes 1",
			cmd, s.nodes-1, s.nodes)
	}
	if !s.firstIsOrdinal && cmd.w.replicas > 1 {
		t.Fatalf("%s: %d pods each number their nodes from %d: the clients' welcome messages would repeat node numbers, and the storm could not tell the pods' restarts apart; use a StatefulSet with --first-node $(POD_INDEX) and --nodes 1",
			cmd.w, cmd.w.replicas, s.first)
	}
	return s
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func TestTarget(t *testing.T) {
	m := mustLoad(t)
	s := m.target(t)
	for _, p := range s.problems {
		t.Error(p)
	}
	sts := s.w.sts
	if sts == nil {
		if s.w.replicas > 1 {
			t.Errorf("%s: %d replicas without per-pod names: a restart hook going through a Service reaches any pod, not the node it restarts", s.w, s.w.replicas)
		}
		return
	}
	svc, ok := m.services[sts.Spec.ServiceName]
	switch {
	case !ok:
		t.Errorf("%s: serviceName %q is no Service of the manifests: the pods get no DNS names for the hooks", s.w, sts.Spec.ServiceName)
	case svc.Spec.ClusterIP != corev1.ClusterIPNone:
		t.Errorf("%s: serviceName %s is not headless (clusterIP: None)", s.w, svc.Name)
	case !slices.Contains(m.selected(svc), s.w):
		t.Errorf("%s: its headless Service %s does not select its pods", s.w, svc.Name)
	}
}

func TestProfile(t *testing.T) {
	m := mustLoad(t)
	p, _ := m.profile(t)
	s := m.target(t)
	if p.Target.Mode != "external" {
		t.Fatalf("profile: target.mode %q: the storm's pods reach wsstorm serve through Services, which takes an external target", p.Target.Mode)
	}
	urls := p.Target.URLs
	if p.Target.URL != "" {
		urls = append(urls, p.Target.URL)
	}
	if len(urls) == 0 {
		t.Error("profile: target.url is missing")
	}
	for _, u := range urls {
		r, err := m.reach(u)
		switch {
		case err != nil:
			t.Errorf("profile: target.url %s: %v", u, err)
		case r.w != s.w || r.port != s.listen:
			t.Errorf("profile: target.url %s reaches %s port %d, not wsstorm serve's --listen port %d in %s", u, r.w, r.port, s.listen, s.w)
		}
	}

	hooked := map[int]bool{}
	for i, n := range p.Target.Nodes {
		who := fmt.Sprintf("profile: target.nodes.%d (%s)", i, n.Name)
		if n.HTTP == nil {
			t.Errorf("%s: not an http hook; the storm's pods restart nodes through wsstorm serve's admin API", who)
			continue
		}
		r, err := m.reach(n.HTTP.URL)
		if err != nil {
			t.Errorf("%s: %s: %v", who, n.HTTP.URL, err)
			continue
		}
		if r.w != s.w || r.port != s.admin {
			t.Errorf("%s: %s reaches %s port %d, not wsstorm serve's --admin port %d", who, n.HTTP.URL, r.w, r.port, s.admin)
			continue
		}
		if r.pod < 0 && s.w.replicas > 1 {
			t.Errorf("%s: %s goes through Service %s, which spreads requests over %d pods: the hook must name the pod that holds its node (<pod>.<headless Service>)",
				who, n.HTTP.URL, r.svc.Name, s.w.replicas)
			continue
		}
		u, _ := url.Parse(n.HTTP.URL)
		mm := regexp.MustCompile(`^/nodes/([0-9]+)/restart$`).FindStringSubmatch(u.Path)
		if mm == nil {
			t.Errorf("%s: path %s: want /nodes/<node>/restart", who, u.Path)
			continue
		}
		node, _ := strconv.Atoi(mm[1])
		lo, hi := s.nodesOf(r.pod)
		switch {
		case node < lo || node >= hi:
			t.Errorf("%s: %s asks for node %d, but that pod holds nodes %d to %d: the admin API would answer 404", who, n.HTTP.URL, node, lo, hi-1)
		case node != i:
			t.Errorf("%s: restarts node %d: the table at position %d must restart node %d, because the storm matches a restart's closes to the node number in the clients' welcome messages", who, node, i, i)
		}
		hooked[node] = true
	}
	pods := s.w.replicas
	if !s.firstIsOrdinal {
		pods = 1
	}
	var missing []int
	for k := range pods {
		lo, hi := s.nodesOf(k)
		for node := lo; node < hi; node++ {
			if !hooked[node] {
				missing = append(missing, node)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("profile: target nodes %v have no [[target.nodes]] hook: a rolling restart would never restart them", missing)
	}
}

func TestNetworkPolicy(t *testing.T) {
	m := mustLoad(t)
	s := m.target(t)
	run := m.only(t, "run")
	var guarding []*networkingv1.NetworkPolicy
	for _, name := range slices.Sorted(maps.Keys(m.policies)) {
		np := m.policies[name]
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Errorf("NetworkPolicy %s: podSelector: %v", name, err)
			continue
		}
		for _, w := range m.workloads {
			if sel.Matches(labels.Set(w.labels)) && w != s.w {
				t.Errorf("NetworkPolicy %s also selects the pods of %s, which it was not written for", name, w)
			}
		}
		if !sel.Matches(labels.Set(s.w.labels)) {
			t.Errorf("NetworkPolicy %s selects no target pod (its podSelector does not match %v)", name, s.w.labels)
			continue
		}
		guarding = append(guarding, np)
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port != nil && p.Port.Type == intstr.String && resolvePort(s.w, *p.Port) == 0 {
					t.Errorf("NetworkPolicy %s: port %q is no named port of %s: the rule would let nothing in", name, p.Port.StrVal, s.w)
				}
			}
		}
	}
	if len(guarding) == 0 {
		return // nothing isolates the target
	}
	for _, port := range []struct {
		what string
		num  int32
	}{{"its clients (--listen)", s.listen}, {"its admin API, for the restart hooks (--admin)", s.admin}} {
		allowed := false
		for _, np := range guarding {
			for _, rule := range np.Spec.Ingress {
				allowed = allowed || allows(rule, s.w, port.num, run.w.labels)
			}
		}
		if !allowed {
			t.Errorf("NetworkPolicy: no ingress rule lets the storm's pods (labels %v) reach the target's port %d, %s", run.w.labels, port.num, port.what)
		}
	}
}

// resolvePort returns the container port number a NetworkPolicy port names.
func resolvePort(w *workload, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, c := range w.spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

// allows says whether an ingress rule lets pods with these labels, in the
// same namespace, reach port on the target's pods.
func allows(rule networkingv1.NetworkPolicyIngressRule, target *workload, port int32, from map[string]string) bool {
	portOK := len(rule.Ports) == 0
	for _, p := range rule.Ports {
		if p.Port == nil || resolvePort(target, *p.Port) == port {
			portOK = true
		}
	}
	if !portOK {
		return false
	}
	if len(rule.From) == 0 {
		return true
	}
	for _, peer := range rule.From {
		if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
			continue // only same-namespace pod selectors are understood here
		}
		if sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector); err == nil && sel.Matches(labels.Set(from)) {
			return true
		}
	}
	return false
}

// TestVariables: Kubernetes leaves a $(VAR) in command or args that the
// container's env does not define as literal text, without a word.
func TestVariables(t *testing.T) {
	m := mustLoad(t)
	for _, w := range m.workloads {
		for _, c := range slices.Concat(w.spec.InitContainers, w.spec.Containers) {
			who := fmt.Sprintf("%s, container %s", w, c.Name)
			for _, arg := range slices.Concat(c.Command, c.Args) {
				for _, name := range varRefs(arg) {
					if _, ok := w.env(&c, name); !ok {
						hint := ""
						if name == completionIndex {
							hint = " (the Job controller sets it only in Indexed Jobs)"
						}
						t.Errorf("%s: %q refers to $(%s), which the container's env does not define%s: it would be passed as written", who, arg, name, hint)
					}
				}
			}
			for _, e := range c.Env {
				if err := m.checkEnvSource(who, e); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

func TestVolumes(t *testing.T) {
	m := mustLoad(t)
	for _, w := range m.workloads {
		for _, v := range w.spec.Volumes {
			switch {
			case v.PersistentVolumeClaim != nil:
				if _, ok := m.claims[v.PersistentVolumeClaim.ClaimName]; !ok {
					t.Errorf("%s: volume %q refers to PersistentVolumeClaim %s, which is not in the manifests", w, v.Name, v.PersistentVolumeClaim.ClaimName)
				}
			case v.ConfigMap != nil:
				cm, ok := m.configMaps[v.ConfigMap.Name]
				if !ok {
					t.Errorf("%s: volume %q refers to ConfigMap %s, which is not in the manifests", w, v.Name, v.ConfigMap.Name)
					continue
				}
				for _, it := range v.ConfigMap.Items {
					if _, ok := cm.Data[it.Key]; !ok {
						t.Errorf("%s: volume %q projects key %q, which ConfigMap %s does not have", w, v.Name, it.Key, cm.Name)
					}
				}
			}
		}
		for _, c := range slices.Concat(w.spec.InitContainers, w.spec.Containers) {
			for _, vm := range c.VolumeMounts {
				if !slices.ContainsFunc(w.spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) {
					t.Errorf("%s, container %s: mounts volume %q, which the pod does not have", w, c.Name, vm.Name)
				}
			}
		}
	}
}

// TestPodSecurity: every pod runs as a non-root user without privileges, on
// a read-only root filesystem (the restricted Pod Security Standard, and
// more), and without an API token it has no use for.
func TestPodSecurity(t *testing.T) {
	m := mustLoad(t)
	for _, w := range m.workloads {
		ps := w.spec.SecurityContext
		if ps == nil {
			ps = &corev1.PodSecurityContext{}
		}
		if w.spec.AutomountServiceAccountToken == nil || *w.spec.AutomountServiceAccountToken {
			t.Errorf("%s: set automountServiceAccountToken: false; nothing here calls the API server", w)
		}
		for _, c := range slices.Concat(w.spec.InitContainers, w.spec.Containers) {
			who := fmt.Sprintf("%s, container %s", w, c.Name)
			cs := c.SecurityContext
			if cs == nil {
				cs = &corev1.SecurityContext{}
			}
			nonRoot := cs.RunAsNonRoot
			if nonRoot == nil {
				nonRoot = ps.RunAsNonRoot
			}
			user := cs.RunAsUser
			if user == nil {
				user = ps.RunAsUser
			}
			seccomp := cs.SeccompProfile
			if seccomp == nil {
				seccomp = ps.SeccompProfile
			}
			switch {
			case nonRoot == nil || !*nonRoot:
				t.Errorf("%s: runAsNonRoot is not true", who)
			case user == nil || *user == 0:
				t.Errorf("%s: runAsUser is not set to a non-zero user: runAsNonRoot then depends on the image's USER", who)
			}
			if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
				t.Errorf("%s: seccompProfile must be RuntimeDefault (or Localhost)", who)
			}
			if cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation is not false", who)
			}
			if cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
				t.Errorf("%s: readOnlyRootFilesystem is not true", who)
			}
			if cs.Capabilities == nil || !slices.Contains(cs.Capabilities.Drop, "ALL") || len(cs.Capabilities.Add) > 0 {
				t.Errorf("%s: capabilities must drop ALL and add none", who)
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				t.Errorf("%s: no memory limit", who)
			}
		}
	}
}

// TestSizing: each pod can hold its share of the fleet's connections. The
// figures are wsstorm's own (internal/storm/limits.go).
func TestSizing(t *testing.T) {
	m := mustLoad(t)
	p, _ := m.profile(t)
	run := m.only(t, "run")
	n, err := segments(run)
	if err != nil {
		t.Fatal(err)
	}
	share := (p.Fleet.Clients + n - 1) / n
	if share > portsPerAddress {
		t.Errorf("%s: %d clients over %d segments is %d per pod, but one pod address has about %d source ports to the target Service: use at least %d segments",
			run.w, p.Fleet.Clients, n, share, portsPerAddress, (p.Fleet.Clients+portsPerAddress-1)/portsPerAddress)
	}
	checkMemory(t, run, share, fmt.Sprintf("its segment of %d clients", share))

	s := m.target(t)
	// While one target pod restarts, its clients move to the others.
	holders := max(s.w.replicas-1, 1)
	conns := (p.Fleet.Clients + holders - 1) / holders
	checkMemory(t, s.command, conns, fmt.Sprintf("%d connections (the fleet over %d pods while another restarts)", conns, holders))
}

func checkMemory(t *testing.T, c *command, conns int, what string) {
	t.Helper()
	need := resource.NewQuantity(int64(conns)*bytesPerConn+baseBytes, resource.BinarySI)
	limit, ok := c.c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Errorf("%s: no memory limit; it needs about %s for %s", c, need, what)
		return
	}
	if limit.Cmp(*need) < 0 {
		t.Errorf("%s: memory limit %s, but %s need about %dMi (16 KiB each + 128 MiB): it would be OOM-killed mid-run", c, limit.String(), what, need.Value()>>20)
	}
}

func TestSameImage(t *testing.T) {
	m := mustLoad(t)
	images := map[string][]string{}
	for _, c := range m.wsstorm() {
		images[c.c.Image] = append(images[c.c.Image], c.String())
	}
	if len(images) != 1 {
		t.Errorf("the wsstorm containers use %d images, want one: the target, the segments and the merge must be the same version: %v", len(images), images)
	}
	for img := range images {
		if !strings.Contains(m.readme, img) {
			t.Errorf("README.md does not mention the image %s, which the manifests use: the user must know what to replace", img)
		}
	}
}

// TestWsstormAcceptsManifests builds wsstorm from this repository and asks
// it: the profile must pass `wsstorm validate`, and every flag the
// containers give must be one the subcommand has.
func TestWsstormAcceptsManifests(t *testing.T) {
	m := mustLoad(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !regexp.MustCompile(`(?m)^module github\.com/wsstorm/wsstorm\s*$`).Match(mod) {
		t.Fatalf("%s is not the wsstorm repository (its go.mod: %v): this module must stay at deploy/kubernetes in it", root, err)
	}
	bin := filepath.Join(t.TempDir(), "wsstorm")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wsstorm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wsstorm in %s: %v\n%s", root, err, out)
	}

	_, ps := m.profile(t)
	file := filepath.Join(t.TempDir(), "storm.toml")
	if err := os.WriteFile(file, []byte(ps.text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "validate", file).CombinedOutput(); err != nil {
		t.Errorf("wsstorm validate rejects the profile in %s%s: %v\n%s", ps.where, ps.lines, err, out)
	}

	// The flag package lists each flag as "  -name VALUE" or, for a flag
	// that takes no value, "  -name".
	flagLine := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)( \S+)?$`)
	takesValue := map[string]map[string]bool{} // subcommand → flag → takes a value
	for _, c := range m.wsstorm() {
		known := takesValue[c.sub]
		if known == nil {
			out, _ := exec.Command(bin, c.sub, "--help").CombinedOutput()
			known = map[string]bool{}
			for _, mm := range flagLine.FindAllStringSubmatch(string(out), -1) {
				known[mm[1]] = mm[2] != ""
			}
			takesValue[c.sub] = known
			if len(known) == 0 {
				t.Errorf("wsstorm %s --help lists no flags; is %q a subcommand?\n%s", c.sub, c.sub, out)
				continue
			}
		}
		for _, name := range slices.Sorted(maps.Keys(c.flags)) {
			value, ok := known[name]
			switch {
			case !ok:
				t.Errorf("%s: --%s is not a flag of wsstorm %s (it has %v)", c, name, c.sub, slices.Sorted(maps.Keys(known)))
			case value == boolFlags[name]:
				t.Errorf("%s: wsstorm %s --%s takes %s, but this test's boolFlags says otherwise, so it reads the arguments wrongly: update boolFlags",
					c, c.sub, name, map[bool]string{true: "a value", false: "no value"}[value])
			}
		}
	}
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
