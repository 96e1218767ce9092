package authzen

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// RouteType is the resource type of an HTTP request: the action's name is its method and the
// resource's id its path, decided through the catalog's endpoints.
const RouteType = "route"

// Directory is what the mapping reads of the revision being served (an *engine.Bundle).
type Directory interface {
	// ResolveUser is the user a subject id names (by id, login or email); an error when it
	// names more than one.
	ResolveUser(name string) (string, error)
	// Instances lists the instances, sorted.
	Instances() []string
	// HasInstance reports whether an instance exists.
	HasInstance(id string) bool
}

// Options of the mapping.
type Options struct {
	// Instance is the instance of the request's path (/instances/{id}/...); "" at the root,
	// where the instance is context.instance, else the repository's only instance.
	Instance string
	// AllowTime lets context.time be the time of the decision (permsd --allow-input-time);
	// without it context.time is ignored.
	AllowTime bool
}

// permissionPattern is a permission key, feature=action, as the rules accept it.
var permissionPattern = regexp.MustCompile(`^[a-z*][a-z0-9_*-]*=[a-z*][a-z0-9_*-]*$`)

// Input is the permsets decision input of a complete evaluation (see docs/permsd.md, "AuthZEN"):
//
//   - user: the user subject.id names (ResolveUser); subject.type is not interpreted;
//   - instance: Options.Instance, else context.instance, else the only instance;
//   - permission: action.name when it is itself feature=action, else resource.type=action.name;
//     for a resource of type "route", method (action.name) and path (resource.id) instead;
//   - resource: resource.properties with "id" set to resource.id;
//   - time: context.time, with Options.AllowTime only.
//
// A request that cannot be mapped is an *Error (400). A subject id that names more than one user
// is a denial: the input is nil and denied says why.
func (ev *Evaluation) Input(dir Directory, o Options) (input map[string]any, denied string, err *Error) {
	if err := ev.Complete(); err != nil {
		return nil, "", err
	}
	inst, err := ev.instance(dir, o)
	if err != nil {
		return nil, "", err
	}
	user, rerr := dir.ResolveUser(ev.Subject.ID)
	if rerr != nil {
		return nil, fmt.Sprintf("subject.id %s %v", quote(ev.Subject.ID), rerr), nil
	}
	input = make(map[string]any, 6)
	input["user"] = user
	input["instance"] = inst
	res := make(map[string]any, len(ev.Resource.Properties)+1)
	for k, v := range ev.Resource.Properties {
		res[k] = v
	}
	res["id"] = ev.Resource.ID
	input["resource"] = res
	switch {
	case permissionPattern.MatchString(ev.Action.Name):
		input["permission"] = ev.Action.Name
	case ev.Resource.Type == RouteType:
		input["method"] = ev.Action.Name
		input["path"] = ev.Resource.ID
	default:
		input["permission"] = ev.Resource.Type + "=" + ev.Action.Name
	}
	if t, ok := ev.Context["time"]; ok && t != nil && o.AllowTime {
		s, ok := t.(string)
		if !ok {
			return nil, "", errorf("context.time must be an RFC 3339 date and time")
		}
		if _, perr := time.Parse(time.RFC3339, s); perr != nil {
			return nil, "", errorf("context.time %s is not an RFC 3339 date and time (2006-01-02T15:04:05Z07:00)", quote(s))
		}
		input["time"] = s
	}
	return input, "", nil
}

// Permission is the permission an evaluation asks about, as Input maps it; "" for a route.
func (ev *Evaluation) Permission() string {
	switch {
	case ev.Action == nil:
		return ""
	case permissionPattern.MatchString(ev.Action.Name):
		return ev.Action.Name
	case ev.Resource == nil || ev.Resource.Type == RouteType:
		return ""
	default:
		return ev.Resource.Type + "=" + ev.Action.Name
	}
}

// maxListed bounds the instances an error message lists.
const maxListed = 10

func (ev *Evaluation) instance(dir Directory, o Options) (string, *Error) {
	var fromContext string
	if v, ok := ev.Context["instance"]; ok && v != nil {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", errorf("context.instance must be a non-empty string: an instance id")
		}
		fromContext = s
	}
	switch {
	case o.Instance != "" && fromContext != "" && fromContext != o.Instance:
		return "", errorf("context.instance %s is not the instance of the path, %s", quote(fromContext), quote(o.Instance))
	case o.Instance != "":
		return o.Instance, nil
	case fromContext != "":
		return fromContext, nil
	}
	insts := dir.Instances()
	switch len(insts) {
	case 1:
		return insts[0], nil
	case 0:
		return "", errorf("the repository has no instance")
	}
	shown := make([]string, 0, maxListed)
	for _, s := range insts[:min(len(insts), maxListed)] {
		shown = append(shown, quote(s))
	}
	more := ""
	if len(insts) > maxListed {
		more = fmt.Sprintf(" and %d more", len(insts)-maxListed)
	}
	return "", errorf("the repository has %d instances: choose one with context.instance or /instances/{id}/ (%s%s)",
		len(insts), strings.Join(shown, ", "), more)
}
