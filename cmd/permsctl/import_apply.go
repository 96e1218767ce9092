package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/edit"
	"github.com/permsets/permsets/engine"
)

// fileChange is the one config file import or duplicate writes.
type fileChange struct {
	path     string // slash path relative to the config root
	data     []byte
	previous []byte // the file's content when it is edited in place; nil for a new file
}

// afterWrite, when set (by tests), runs between writing a change and loading it again.
var afterWrite func(dir string)

// applyChange writes c into the config root dir, all or nothing:
//
//  1. the path must stay inside the root (no symbolic link out of it, checked with os.Root);
//  2. the repository as it would be (the change laid over the files on disk) must load without a
//     problem, compile, and pass check; its problems are printed, and nothing is written;
//  3. the file is written through os.Root, aside and then moved into place;
//  4. the repository is loaded again from disk; if it does not validate or does not pass check,
//     the previous content is put back (a new file is removed) and the command fails.
//
// It returns the model after the change.
func (g *globals) applyChange(cmd *cobra.Command, dir string, c fileChange, check func(*config.Model) error) (*config.Model, error) {
	ctx := cmd.Context()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, failf("config root: %v", err)
	}
	defer root.Close()
	if err := edit.Confined(root, c.path); err != nil {
		return nil, failf("%v; nothing written", err)
	}
	if c.previous == nil {
		if _, err := root.Lstat(c.path); err == nil {
			return nil, failf("%s already exists; nothing written (choose another id, or move that file)", c.path)
		}
	}
	res, err := config.Load(ctx, edit.Overlay(root.FS(), map[string][]byte{c.path: c.data}), config.Options{})
	if err != nil {
		return nil, failf("%v", err)
	}
	if err := g.verify(res, check); err != nil {
		return nil, failf("the change would leave %s invalid: %v; nothing written", dir, err)
	}
	var created []string
	if c.previous == nil {
		created, err = edit.CreateFile(root, c.path, c.data)
	} else {
		var now []byte
		if now, err = edit.ReplaceFile(root, c.path, c.data); err == nil && !bytes.Equal(now, c.previous) {
			_ = edit.RestoreFile(root, c.path, now, nil)
			err = fmt.Errorf("the file changed while it was being edited; put back, try again")
		}
	}
	if err != nil {
		if edit.Escapes(err) {
			err = fmt.Errorf("a symbolic link leads out of the config root; refused")
		}
		return nil, failf("%s: %v; nothing written", c.path, err)
	}
	if afterWrite != nil {
		afterWrite(dir)
	}
	after, err := config.LoadDir(ctx, dir, config.Options{})
	if err == nil {
		err = g.verify(after, check)
	}
	if err != nil {
		if rerr := edit.RestoreFile(root, c.path, c.previous, created); rerr != nil {
			return nil, failf("%s was written but %s does not validate (%v), and putting it back failed: %v", c.path, dir, err, rerr)
		}
		return nil, failf("%s was written but %s did not validate (%v); put back as it was", c.path, dir, err)
	}
	return after.Model, nil
}

// verify prints a load's problems and fails when it has any, when the model does not compile,
// or when check fails.
func (g *globals) verify(res *config.Result, check func(*config.Model) error) error {
	if !res.OK() {
		for _, p := range res.Problems {
			fmt.Fprintln(g.stderr, p.String())
		}
		return fmt.Errorf("%s", plural(len(res.Problems), "problem"))
	}
	if _, err := engine.Compile(res.Model); err != nil {
		return err
	}
	return check(res.Model)
}

// limitHints says on stderr when plan will deny a new or changed set because of an instance's
// limits. Enforcing them is plan's job (custom-set-limit, set-not-editable), not the authoring
// commands': the hint only saves a round trip.
func (g *globals) limitHints(m *config.Model, id string, builtin bool, instances []string) {
	for _, inst := range instances {
		in := m.Instance(inst)
		if in == nil || in.Limits == nil {
			continue
		}
		if max := in.Limits.MaxCustomSets; max != nil && !builtin {
			custom := 0
			for _, s := range m.Sets {
				if !s.Builtin && slices.Contains(s.Instances, inst) {
					custom++
				}
			}
			if custom > *max {
				fmt.Fprintf(g.stderr, "hint: instance %s now has %d custom sets, over its limit of %d (limits.maxCustomSets): plan will deny this change (custom-set-limit)\n", inst, custom, *max)
			}
		}
		if eds := in.Limits.EditableSets; eds != nil && !slices.Contains(eds, id) {
			fmt.Fprintf(g.stderr, "hint: set %s is not in instance %s's limits.editableSets: plan will deny this change (set-not-editable)\n", id, inst)
		}
	}
}
