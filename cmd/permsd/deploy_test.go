package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// object is one YAML document of examples/deploy.
type object struct {
	file string
	doc  map[string]any
}

func (o object) kind() string { s, _ := o.doc["kind"].(string); return s }
func (o object) name() string { s, _ := dig(o.doc, "metadata", "name").(string); return s }

// dig walks maps by key.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

func loadDeploy(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob("../../examples/deploy/*.y*ml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in examples/deploy: %v", err)
	}
	var objs []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 1; ; i++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", f, i, err)
			}
			if doc != nil {
				objs = append(objs, object{file: filepath.Base(f), doc: doc})
			}
		}
	}
	return objs
}

// apiVersions are the API versions of the kinds the examples use.
var apiVersions = map[string]string{
	"Namespace": "v1", "ServiceAccount": "v1", "ConfigMap": "v1", "Service": "v1",
	"Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
	"Kustomization": "kustomize.config.k8s.io/v1beta1",
}

// permsdFlags reads the flags permsd defines from its usage, as the binary prints it now.
func permsdFlags(t *testing.T) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	if _, err := parse([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("permsd --help: %v", err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9][a-z0-9-]*)`).FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = true
	}
	if !flags["dir"] || !flags["addr"] {
		t.Fatalf("no flags read from the usage:\n%s", out.String())
	}
	return flags
}

// TestDeployManifests checks examples/deploy: every document has its kind and apiVersion;
// permsd's arguments use only flags permsd defines, and parse; its probes are /health and
// /health/live; every container is locked down; selectors, mounts and the sidecar's OPA
// config fit together.
func TestDeployManifests(t *testing.T) {
	objs := loadDeploy(t)
	byKind := map[string][]object{}
	files := map[string]bool{}
	for _, o := range objs {
		files[o.file] = true
		av, _ := o.doc["apiVersion"].(string)
		if av == "" || o.kind() == "" {
			t.Errorf("%s: a document without apiVersion or kind", o.file)
			continue
		}
		if want, ok := apiVersions[o.kind()]; !ok || av != want {
			t.Errorf("%s: %s with apiVersion %q (want %q)", o.file, o.kind(), av, want)
		}
		if o.kind() != "Kustomization" && o.name() == "" {
			t.Errorf("%s: %s without metadata.name", o.file, o.kind())
		}
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	for _, k := range byKind["Kustomization"] {
		var res []string
		for _, r := range list(k.doc["resources"]) {
			res = append(res, r.(string))
		}
		for f := range files {
			if f != k.file && !slices.Contains(res, f) {
				t.Errorf("%s does not list %s", k.file, f)
			}
		}
	}

	var permsd []map[string]any // the permsd containers
	var opaConfigs []string     // the config.yaml of each ConfigMap
	var podLabels []map[string]any
	for _, d := range byKind["Deployment"] {
		spec, _ := dig(d.doc, "spec", "template", "spec").(map[string]any)
		labels, _ := dig(d.doc, "spec", "template", "metadata", "labels").(map[string]any)
		podLabels = append(podLabels, labels)
		if !matches(dig(d.doc, "spec", "selector", "matchLabels"), labels) {
			t.Errorf("%s: deployment %s: the selector does not select its pods", d.file, d.name())
		}
		volumes := map[string]bool{}
		for _, v := range list(spec["volumes"]) {
			volumes[dig(v, "name").(string)] = true
		}
		podNonRoot := dig(spec, "securityContext", "runAsNonRoot") == true
		for _, c := range list(spec["containers"]) {
			c := c.(map[string]any)
			where := d.file + ": " + d.name() + "/" + c["name"].(string)
			sc := c["securityContext"]
			if dig(sc, "readOnlyRootFilesystem") != true || dig(sc, "allowPrivilegeEscalation") != false ||
				!slices.Contains(list(dig(sc, "capabilities", "drop")), any("ALL")) ||
				(!podNonRoot && dig(sc, "runAsNonRoot") != true) {
				t.Errorf("%s: securityContext %v (pod runAsNonRoot %v)", where, sc, podNonRoot)
			}
			if dig(c, "resources", "requests", "cpu") == nil || dig(c, "resources", "limits", "memory") == nil {
				t.Errorf("%s: resources %v", where, c["resources"])
			}
			for _, m := range list(c["volumeMounts"]) {
				if !volumes[dig(m, "name").(string)] {
					t.Errorf("%s: mounts volume %v, which the pod does not have", where, dig(m, "name"))
				}
			}
			if c["name"] == "permsd" {
				permsd = append(permsd, c)
			}
		}
	}
	for _, cm := range byKind["ConfigMap"] {
		if s, ok := dig(cm.doc, "data", "config.yaml").(string); ok {
			opaConfigs = append(opaConfigs, s)
		}
	}
	for _, kind := range []string{"Service", "PodDisruptionBudget"} {
		for _, o := range byKind[kind] {
			sel := dig(o.doc, "spec", "selector")
			if kind == "PodDisruptionBudget" {
				sel = dig(sel, "matchLabels")
			}
			if !slices.ContainsFunc(podLabels, func(l map[string]any) bool { return matches(sel, l) }) {
				t.Errorf("%s: %s %s selects no pods of the examples", o.file, kind, o.name())
			}
		}
	}
	if len(permsd) == 0 || len(byKind["Service"]) == 0 || len(byKind["PodDisruptionBudget"]) == 0 || len(opaConfigs) == 0 {
		t.Fatalf("examples/deploy lacks a permsd container, a Service, a PodDisruptionBudget or an OPA config")
	}

	t.Run("permsd args", func(t *testing.T) {
		defined := permsdFlags(t)
		for _, c := range permsd {
			var args []string
			for _, a := range list(c["args"]) {
				args = append(args, a.(string))
			}
			var missing []string
			for _, a := range args {
				if name, ok := strings.CutPrefix(a, "-"); ok {
					name, _, _ = strings.Cut(strings.TrimPrefix(name, "-"), "=")
					if !defined[name] {
						missing = append(missing, "--"+name)
					}
				}
			}
			if len(missing) > 0 {
				t.Fatalf("the permsd args use flags permsd does not define: %s", strings.Join(missing, ", "))
			}
			var errb bytes.Buffer
			o, err := parse(args, &errb)
			if err != nil {
				t.Fatalf("permsd %s: %v\n%s", strings.Join(args, " "), err, errb.String())
			}
			if o.addr != "0.0.0.0:8181" || dig(list(c["ports"])[0], "containerPort") != 8181 {
				t.Errorf("--addr %s, container ports %v", o.addr, c["ports"])
			}
			// Every absolute path in the args is inside a mount (the root filesystem is
			// read-only).
			var mounts []string
			for _, m := range list(c["volumeMounts"]) {
				mounts = append(mounts, dig(m, "mountPath").(string))
			}
			for _, a := range args {
				_, v, _ := strings.Cut(a, "=")
				if strings.HasPrefix(v, "/") && !under(v, mounts) {
					t.Errorf("%s: not inside a mount of %v", a, mounts)
				}
			}
		}
	})

	t.Run("probes", func(t *testing.T) {
		for _, c := range permsd {
			if p := dig(c, "readinessProbe", "httpGet", "path"); p != "/health" {
				t.Errorf("readiness probe %v, want /health", p)
			}
			if p := dig(c, "livenessProbe", "httpGet", "path"); p != "/health/live" {
				t.Errorf("liveness probe %v, want /health/live", p)
			}
			if p := dig(c, "startupProbe", "httpGet", "path"); p != nil && p != "/health/live" && p != "/health" {
				t.Errorf("startup probe %v", p)
			}
		}
	})

	t.Run("sidecar config", func(t *testing.T) {
		svc := byKind["Service"][0]
		ns, _ := dig(svc.doc, "metadata", "namespace").(string)
		port := dig(list(dig(svc.doc, "spec", "ports"))[0], "port")
		var opaMounts []string
		for _, d := range byKind["Deployment"] {
			for _, c := range list(dig(d.doc, "spec", "template", "spec", "containers")) {
				if c.(map[string]any)["name"] == "opa" {
					for _, m := range list(dig(c, "volumeMounts")) {
						opaMounts = append(opaMounts, dig(m, "mountPath").(string))
					}
				}
			}
		}
		for _, raw := range opaConfigs {
			var cfg map[string]any
			if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatalf("the OPA config: %v", err)
			}
			b := dig(cfg, "bundles", "permsets")
			if dig(b, "resource") != "/bundles/permsets.tar.gz" {
				t.Errorf("bundle resource %v", dig(b, "resource"))
			}
			service, _ := dig(b, "service").(string)
			u, err := url.Parse(dig(cfg, "services", service, "url").(string))
			if err != nil || u.Hostname() != svc.name()+"."+ns+".svc.cluster.local" || u.Port() != fmt.Sprint(port) {
				t.Errorf("service url %v does not name Service %s.%s port %v", u, svc.name(), ns, port)
			}
			tp, _ := dig(cfg, "services", service, "credentials", "bearer", "token_path").(string)
			if tp == "" || !under(tp, opaMounts) {
				t.Errorf("bearer token_path %q is not inside a mount of the opa container %v", tp, opaMounts)
			}
		}
	})
}

// matches reports whether every label of sel is in labels.
func matches(sel any, labels map[string]any) bool {
	m, ok := sel.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for k, v := range m {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// under reports whether p is one of dirs or inside one.
func under(p string, dirs []string) bool {
	p = path.Clean(p)
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}
