package authzen

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type dir struct {
	instances []string
	users     map[string]string // name -> user
}

func (d dir) ResolveUser(name string) (string, error) {
	if name == "shared" {
		return "", errors.New("names more than one user")
	}
	if u, ok := d.users[name]; ok {
		return u, nil
	}
	return name, nil
}
func (d dir) Instances() []string { return d.instances }
func (d dir) HasInstance(id string) bool {
	for _, i := range d.instances {
		if i == id {
			return true
		}
	}
	return false
}

var one = dir{instances: []string{"main"}, users: map[string]string{"ann@x.org": "ann"}}

func TestInput(t *testing.T) {
	for _, tc := range []struct {
		note, body string
		dir        dir
		opts       Options
		want       string // the input's JSON
		denied     string
		err        string
	}{
		{note: "permission from type and action", body: `{"subject": {"type": "user", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "r1", "properties": {"owner": "bob", "id": "other"}}}`,
			want: `{"instance":"main","permission":"record=read","resource":{"id":"r1","owner":"bob"},"user":"ann"}`},
		{note: "action.name as a permission", body: `{"subject": {"type": "user", "id": "ann@x.org"}, "action": {"name": "people=export"}, "resource": {"type": "doc", "id": "d"}}`,
			want: `{"instance":"main","permission":"people=export","resource":{"id":"d"},"user":"ann"}`},
		{note: "a route", body: `{"subject": {"type": "user", "id": "ann"}, "action": {"name": "GET"}, "resource": {"type": "route", "id": "/users/{userId}"}}`,
			want: `{"instance":"main","method":"GET","path":"/users/{userId}","resource":{"id":"/users/{userId}"},"user":"ann"}`},
		{note: "context.time ignored without AllowTime", body: `{"subject": {"type": "u", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}, "context": {"time": "nonsense"}}`,
			want: `{"instance":"main","permission":"r=read","resource":{"id":"1"},"user":"ann"}`},
		{note: "context.time with AllowTime", opts: Options{AllowTime: true}, body: `{"subject": {"type": "u", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}, "context": {"time": "2026-01-02T03:04:05Z"}}`,
			want: `{"instance":"main","permission":"r=read","resource":{"id":"1"},"time":"2026-01-02T03:04:05Z","user":"ann"}`},
		{note: "a bad context.time with AllowTime", opts: Options{AllowTime: true}, body: `{"subject": {"type": "u", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}, "context": {"time": "2025-06-27T18:03-07:00"}}`,
			err: "context.time"},
		{note: "several instances", dir: dir{instances: []string{"a", "b"}}, body: `{"subject": {"type": "u", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}}`,
			err: `the repository has 2 instances: choose one with context.instance or /instances/{id}/ ("a", "b")`},
		{note: "several instances, context.instance", dir: dir{instances: []string{"a", "b"}}, body: `{"subject": {"type": "u", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}, "context": {"instance": "b"}}`,
			want: `{"instance":"b","permission":"r=read","resource":{"id":"1"},"user":"ann"}`},
		{note: "the path's instance", opts: Options{Instance: "a"}, dir: dir{instances: []string{"a", "b"}}, body: `{"subject": {"type": "u", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}}`,
			want: `{"instance":"a","permission":"r=read","resource":{"id":"1"},"user":"ann"}`},
		{note: "an ambiguous subject", body: `{"subject": {"type": "u", "id": "shared"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}}`,
			denied: `subject.id "shared" names more than one user`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ev, err := DecodeEvaluation([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			d := tc.dir
			if d.instances == nil {
				d = one
			}
			input, denied, err := ev.Input(d, tc.opts)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Message, tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if denied != tc.denied {
				t.Fatalf("denied %q, want %q", denied, tc.denied)
			}
			if tc.want != "" {
				if got, _ := json.Marshal(input); string(got) != tc.want {
					t.Errorf("got  %s\nwant %s", got, tc.want)
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ note, body, err string }{
		{"empty", ` `, "empty"},
		{"not JSON", `{`, "not JSON"},
		{"two values", `{} {}`, "data after"},
		{"too deep", `{"subject": ` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, "deeper than 64"},
		{"properties not an object", `{"subject": {"type": "u", "id": "a", "properties": []}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}}`, "subject.properties must be an object"},
		{"context not an object", `{"subject": {"type": "u", "id": "a"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}, "context": 1}`, "context must be an object"},
		{"id too long", `{"subject": {"type": "u", "id": "` + strings.Repeat("a", MaxNameBytes+1) + `"}, "action": {"name": "read"}, "resource": {"type": "r", "id": "1"}}`, "longer than"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			_, err := DecodeEvaluation([]byte(tc.body))
			if err == nil || !strings.Contains(err.Message, tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
	if _, err := DecodeEvaluations([]byte(`{"evaluations": [` + strings.Repeat(`{},`, MaxEvaluations) + `{}]}`)); err == nil {
		t.Error("more than MaxEvaluations items were accepted")
	}
}

func TestMerge(t *testing.T) {
	req, err := DecodeEvaluations([]byte(`{"subject": {"type": "user", "id": "ann", "properties": {"a": 1}}, "action": {"name": "read"},
		"resource": {"type": "record"}, "context": {"instance": "main", "x": 1},
		"evaluations": [{"resource": {"id": "r1"}}, {"subject": {"type": "user", "id": "bob"}, "action": {"name": "write"}, "resource": {"type": "doc", "id": "d"}, "context": {"x": 2}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal([]Evaluation{req.Items[0].Evaluation, req.Items[1].Evaluation})
	want := `[{"subject":{"type":"user","id":"ann","properties":{"a":1}},"action":{"name":"read"},"resource":{"type":"record","id":"r1"},"context":{"instance":"main","x":1}},` +
		`{"subject":{"type":"user","id":"bob"},"action":{"name":"write"},"resource":{"type":"doc","id":"d"},"context":{"instance":"main","x":2}}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPaginate(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e"}
	var got []string
	p := Page{Limit: 2}
	for pages := 0; ; pages++ {
		page, next, err := Paginate(keys, p)
		if err != nil || pages > 5 {
			t.Fatal(err, pages)
		}
		got = append(got, strings.Join(page, ""))
		if next == "" {
			break
		}
		p.Token = next
	}
	if strings.Join(got, "|") != "ab|cd|e" {
		t.Errorf("pages %v", got)
	}
	// A token stays meaningful when the list changes: the page after "b" starts after "b".
	_, next, _ := Paginate(keys, Page{Limit: 2})
	if page, _, _ := Paginate([]string{"a", "c"}, Page{Token: next}); strings.Join(page, "") != "c" {
		t.Errorf("after a change: %v", page)
	}
	if _, _, err := Paginate(keys, Page{Token: "k1.!!"}); err == nil {
		t.Error("a forged token was accepted")
	}
}

// FuzzDecode feeds any body to the decoders and the mapping: none may panic, and whatever is
// accepted maps to an input with a user, an instance and a permission or a route, or to an error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"subject": {"type": "user", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "r1", "properties": {"owner": ["ann"]}}}`))
	f.Add([]byte(`{"subject": {"type": "user", "id": "ann"}, "action": {"name": "read"}, "evaluations": [{"resource": {"type": "record", "id": "r1"}}, {}], "options": {"evaluations_semantic": "deny_on_first_deny"}}`))
	f.Add([]byte(`{"subject": {"type": "user"}, "action": {"name": "GET"}, "resource": {"type": "route", "id": "/x"}, "page": {"limit": 2, "token": "k1.YQ"}, "context": {"time": "2026-01-01T00:00:00Z", "instance": "main"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(ev *Evaluation) {
			input, denied, err := ev.Input(one, Options{AllowTime: true})
			if err != nil || denied != "" {
				return
			}
			if _, ok := input["user"].(string); !ok {
				t.Fatalf("no user in %v", input)
			}
			_, perm := input["permission"].(string)
			_, method := input["method"].(string)
			if perm == method {
				t.Fatalf("%v: a permission or a method, not both or neither", input)
			}
			if _, err := json.Marshal(input); err != nil {
				t.Fatal(err)
			}
		}
		if ev, err := DecodeEvaluation(body); err == nil {
			check(ev)
		}
		if req, err := DecodeEvaluations(body); err == nil {
			if len(req.Items) > MaxEvaluations {
				t.Fatal("too many items")
			}
			for _, it := range req.Items {
				if it.Err == nil {
					check(&it.Evaluation)
				}
			}
		}
		for _, kind := range []string{SearchSubject, SearchResource, SearchAction} {
			if s, err := DecodeSearch(kind, body); err == nil {
				if s.Page.Limit < 0 || s.Page.Limit > MaxPageLimit {
					t.Fatalf("page limit %d", s.Page.Limit)
				}
				_, _, _ = Paginate([]string{"a", "b"}, s.Page)
			}
		}
	})
}
