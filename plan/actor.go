package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/sorted"
)

// Actor is who makes a change, as the actor rules (docs/plan.md, Actors) see them: judged
// on the base, so that a change cannot first grant its author the right to make it.
type Actor struct {
	Given       string `json:"given"`    // as passed to --actor: a login, id:ID or email:ADDR
	ID          string `json:"id"`       // the User it names; "" when none does
	Declared    bool   `json:"declared"` // a User of the base (of the head with --bootstrap)
	SystemAdmin bool   `json:"system_admin"`
	Bootstrap   bool   `json:"bootstrap"`
	// Grants are the actor's effective grants on each instance in the base, parsed.
	Grants    map[string][]ParsedGrant `json:"grants"`
	Superuser map[string]bool          `json:"superuser"` // holds *=* on the instance
}

// ParsedGrant is a granted permission split for coverage checks: people=read(assigned) is
// {people, read, scopes [assigned]}; permset=assign('staffer') {permset, assign, objects
// [staffer]}. A grant without arguments covers every resource.
type ParsedGrant struct {
	Text    string   `json:"text"`
	Feature string   `json:"feature"`
	Action  string   `json:"action"`
	Objects []string `json:"objects"`
	Scopes  []string `json:"scopes"`
}

func parseGrant(text string) ParsedGrant {
	g := ParsedGrant{Text: text, Objects: []string{}, Scopes: []string{}}
	p, err := config.ParsePermission(text)
	if err != nil {
		// Grant texts come from the compiled index and always parse; keep the text so the
		// coverage check fails closed (an unknown feature covers nothing).
		g.Feature, g.Action = text, ""
		return g
	}
	g.Feature, g.Action = p.Feature, p.Action
	if o := p.Objects(); o != nil {
		g.Objects = o
	}
	if s := p.Scopes(); s != nil {
		g.Scopes = s
	}
	return g
}

// FindUser returns the User a --actor value names. A bare value is a forge login and matches
// the logins of Users only, never an id or an email: CI passes the pull request author's forge
// login, and whoever registers a forge account named like an admin's id must not be judged as
// that admin. "id:ID" names a User by id and "email:ADDR" by one of its emails (ignoring case),
// for people running plan by hand. Validation refuses a login or an email declared by two
// Users (duplicate-login, duplicate-email), so a value names at most one.
func FindUser(m *config.Model, given string) *config.User {
	if m == nil || given == "" {
		return nil
	}
	if id, ok := strings.CutPrefix(given, ActorIDPrefix); ok {
		return m.User(id)
	}
	if addr, ok := strings.CutPrefix(given, ActorEmailPrefix); ok {
		for _, u := range m.Users {
			for _, e := range u.Emails {
				if strings.EqualFold(e, addr) {
					return u
				}
			}
		}
		return nil
	}
	for _, u := range m.Users {
		if slices.Contains(u.Logins, given) {
			return u
		}
	}
	return nil
}

// The prefixes of a --actor value that names a User by id or by email rather than by login.
const (
	ActorIDPrefix    = "id:"
	ActorEmailPrefix = "email:"
)

// resolveActor finds the actor in the base (in the head with bootstrap, when the base is empty)
// and collects their grants on every instance of the base.
func resolveActor(ctx context.Context, before, after *config.Model, given string, bootstrap bool) (*Actor, error) {
	a := &Actor{Given: given, Bootstrap: bootstrap, Grants: map[string][]ParsedGrant{}, Superuser: map[string]bool{}}
	judgedOn := before
	if bootstrap {
		if before != nil {
			return nil, fmt.Errorf("--bootstrap is for the first apply only, and the base is not empty")
		}
		judgedOn = after
	}
	u := FindUser(judgedOn, given)
	if u == nil {
		return a, nil
	}
	a.ID, a.Declared, a.SystemAdmin = u.ID, true, u.SystemAdmin
	if before == nil {
		return a, nil // nobody holds anything in an empty base
	}
	ev, _, err := reducedEvaluator(ctx, before, map[string]bool{u.ID: true}, false)
	if err != nil {
		return nil, fmt.Errorf("the actor's grants in the base: %w", err)
	}
	supers := superuserSets(before)
	for _, in := range before.Instances {
		access, err := accessOf(ctx, ev, u.ID, in.ID)
		if err != nil {
			return nil, err
		}
		grants := []ParsedGrant{}
		for _, text := range sorted.Keys(access) {
			grants = append(grants, parseGrant(text))
			for _, g := range access[text] {
				a.Superuser[in.ID] = a.Superuser[in.ID] || supers[g.Set]
			}
		}
		a.Grants[in.ID] = grants
	}
	return a, nil
}
