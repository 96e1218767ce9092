package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/textfmt"
)

// SummaryLine is the plan's one-line summary, in the Terraform tradition.
func (p *Plan) SummaryLine() string {
	s := p.Summary
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to remove; %d users gain access, %d lose access",
		s.Add, s.Change, s.Remove, s.UsersGaining, s.UsersLosing)
}

func entries(n int) string {
	if n == 1 {
		return "1 deny entry"
	}
	return fmt.Sprintf("%d deny entries", n)
}

// verb: "1 user gains", "3 users gain".
func verb(n int, one, many string) string {
	if n == 1 {
		return "1 user " + one
	}
	return fmt.Sprintf("%d users %s", n, many)
}

var actionSigns = map[string]string{config.ActionAdd: "+", config.ActionChange: "~", config.ActionRemove: "-"}

// sign is a change's +, ~ or -, coloured green, yellow or red.
func sign(c textfmt.Painter, action string) string {
	code := map[string]string{config.ActionAdd: "32", config.ActionChange: "33", config.ActionRemove: "31"}[action]
	return c.Paint(code, actionSigns[action])
}

// where is an object's file:line in a change (the head's, or the base's when removed).
func where(ch config.Change) string {
	src := ch.After
	if src == nil {
		src = ch.Before
	}
	if src == nil || src.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", src.File, src.Line)
}

// listChange splits a change of a list of strings (permissions, users, instances) into what
// it adds and removes, which reads better than two whole lists.
func listChange(f config.FieldChange) (added, removed []string, ok bool) {
	strs := func(v any) ([]string, bool) {
		if v == nil {
			return nil, true
		}
		list, isList := v.([]any)
		if !isList {
			return nil, false
		}
		out := make([]string, 0, len(list))
		for _, x := range list {
			s, isString := x.(string)
			if !isString {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	old, ok1 := strs(f.Old)
	new, ok2 := strs(f.New)
	if !ok1 || !ok2 || (f.Old == nil && f.New == nil) {
		return nil, nil, false
	}
	for _, n := range new {
		if !slices.Contains(old, n) {
			added = append(added, n)
		}
	}
	for _, o := range old {
		if !slices.Contains(new, o) {
			removed = append(removed, o)
		}
	}
	return added, removed, len(added)+len(removed) > 0
}

func prefixed(p string, xs []string) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(p + x)
	}
	return b.String()
}

func value(v any) string {
	if v == nil {
		return "(none)"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// Lines of the access diff: "+ alice@prod people=edit via staffer (role:organizers)".
func accessLines(p *Plan) (gained, lost []string) {
	for _, a := range p.Access {
		for _, g := range a.Gained {
			gained = append(gained, fmt.Sprintf("+ %s@%s %s via %s", a.User, a.Instance, g.Permission, describe(g.Grants)))
		}
		for _, l := range a.Lost {
			lost = append(lost, fmt.Sprintf("- %s@%s %s via %s", a.User, a.Instance, l.Permission, describe(l.Grants)))
		}
	}
	return gained, lost
}

func describe(gs []Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s (%s)", g.Set, g.Via)
	}
	return strings.Join(parts, ", ")
}

func findingLine(f Finding) string {
	at := f.File
	if f.Line > 0 {
		at = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	head := f.Code
	if f.Object != "" {
		head += " " + f.Object
	}
	if at != "" {
		head += " (" + at + ")"
	}
	return head + ": " + f.Message
}

// WriteText writes the plan for a terminal. Every string from the config goes through
// textfmt.Terminal before it is coloured, so none can move the cursor, clear the screen or
// reorder what is shown.
func WriteText(w io.Writer, p *Plan, c textfmt.Painter) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Base: %s\nHead: %s\n", textfmt.Terminal(sideText(p.Base)), textfmt.Terminal(sideText(p.Head)))
	if len(p.Changes) == 0 {
		b.WriteString("\nNo changes. The config matches the base.\n")
	} else {
		b.WriteString("\nObjects:\n")
		for _, ch := range p.Changes {
			fmt.Fprintf(b, "  %s %s %s", sign(c, ch.Action), textfmt.Terminal(ch.Kind), textfmt.Terminal(ch.ID))
			if at := where(ch); at != "" {
				fmt.Fprintf(b, " (%s)", textfmt.Terminal(at))
			}
			b.WriteString("\n")
			for _, f := range ch.Fields {
				if added, removed, ok := listChange(f); ok {
					fmt.Fprintf(b, "      %s\n", textfmt.Terminal(f.Field+":"+prefixed(" +", added)+prefixed(" -", removed)))
					continue
				}
				fmt.Fprintf(b, "      %s\n", textfmt.Terminal(f.Field+": "+value(f.Old)+" -> "+value(f.New)))
			}
		}
	}
	gained, lost := accessLines(p)
	if len(gained)+len(lost) > 0 {
		b.WriteString("\nAccess:\n")
		for _, l := range gained {
			fmt.Fprintf(b, "  %s%s\n", c.Paint("32", "+"), textfmt.Terminal(l[1:]))
		}
		for _, l := range lost {
			fmt.Fprintf(b, "  %s%s\n", c.Paint("31", "-"), textfmt.Terminal(l[1:]))
		}
	}
	if p.AccessNote != "" {
		fmt.Fprintf(b, "\nNote: %s\n", textfmt.Terminal(p.AccessNote))
	}
	if len(p.Deny) > 0 {
		b.WriteString("\nDeny:\n")
		for _, f := range p.Deny {
			fmt.Fprintf(b, "  %s %s\n", c.Paint("31", "x"), textfmt.Terminal(findingLine(f)))
		}
	}
	if len(p.Warn) > 0 {
		b.WriteString("\nWarn:\n")
		for _, f := range p.Warn {
			fmt.Fprintf(b, "  %s %s\n", c.Paint("33", "!"), textfmt.Terminal(findingLine(f)))
		}
	}
	fmt.Fprintf(b, "\n%s\n", p.SummaryLine())
	if len(p.Deny) > 0 {
		fmt.Fprintf(b, "%s\n", c.Paint("31", fmt.Sprintf("Denied: %s. Fix the change, or the base, and plan again.", entries(len(p.Deny)))))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sideText(s Side) string {
	switch {
	case s.Empty:
		return "empty (nothing applied yet)"
	case s.Commit != "":
		return fmt.Sprintf("%s (commit %s, revision %s)", s.Ref, textfmt.Short(s.Commit), textfmt.Short(s.Revision))
	case s.Revision != "":
		return fmt.Sprintf("%s (revision %s)", s.Ref, textfmt.Short(s.Revision))
	default:
		return s.Ref
	}
}

// maxMarkdownLines bounds each long list of a pull-request comment (forges cap a comment's
// size; the JSON plan has everything).
const maxMarkdownLines = 300

// WriteMarkdown writes the plan as a pull-request comment: the verdict and summary first, deny
// and warn as checklists, the long lists in collapsible sections. Every string that comes from
// the config (ids, file names, values, findings: a head's custom rules are the pull request's
// own code) goes through internal/textfmt, so none can fake a verdict, open an HTML comment
// that hides the sections after it, or make a link.
func WriteMarkdown(w io.Writer, p *Plan) error {
	b := &strings.Builder{}
	verdict := "✅ no rule denies this change"
	if len(p.Deny) > 0 {
		verdict = "❌ denied: " + entries(len(p.Deny))
	}
	fmt.Fprintf(b, "### permsets plan: %s\n\n", verdict)
	fmt.Fprintf(b, "**%s**\n\n", p.SummaryLine())
	fmt.Fprintf(b, "Base: %s · Head: %s\n", mdSide(p.Base), mdSide(p.Head))
	if len(p.Deny) > 0 {
		b.WriteString("\n#### Deny\n\n")
		for _, f := range p.Deny {
			fmt.Fprintf(b, "- [ ] %s\n", mdFinding(f))
		}
	}
	if len(p.Warn) > 0 {
		b.WriteString("\n#### Warn\n\n")
		for _, f := range p.Warn {
			fmt.Fprintf(b, "- [ ] %s\n", mdFinding(f))
		}
	}
	if p.AccessNote != "" {
		fmt.Fprintf(b, "\n> %s\n", textfmt.Markdown(p.AccessNote))
	}
	if len(p.Changes) > 0 {
		fmt.Fprintf(b, "\n<details><summary>Objects: %d to add, %d to change, %d to remove</summary>\n\n", p.Summary.Add, p.Summary.Change, p.Summary.Remove)
		b.WriteString("| | kind | id | where | what changes |\n|---|---|---|---|---|\n")
		for i, ch := range p.Changes {
			if i == maxMarkdownLines {
				fmt.Fprintf(b, "| | | | | ... and %d more objects: see the plan's JSON (-o PLANFILE) |\n", len(p.Changes)-i)
				break
			}
			var what []string
			for _, f := range ch.Fields {
				field := textfmt.MarkdownCode(f.Field)
				if added, removed, ok := listChange(f); ok {
					var parts []string
					for _, a := range added {
						parts = append(parts, "+"+textfmt.MarkdownCode(a))
					}
					for _, r := range removed {
						parts = append(parts, "−"+textfmt.MarkdownCode(r))
					}
					what = append(what, fmt.Sprintf("%s: %s", field, strings.Join(parts, " ")))
					continue
				}
				what = append(what, fmt.Sprintf("%s: %s → %s", field, textfmt.MarkdownCode(value(f.Old)), textfmt.MarkdownCode(value(f.New))))
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", actionSigns[ch.Action], textfmt.Markdown(ch.Kind), textfmt.MarkdownCode(ch.ID),
				textfmt.MarkdownCode(where(ch)), strings.Join(what, "<br>"))
		}
		b.WriteString("\n</details>\n")
	}
	gained, lost := accessLines(p)
	if len(gained)+len(lost) > 0 {
		fmt.Fprintf(b, "\n<details><summary>Access: %s, %s</summary>\n\n```diff\n", verb(p.Summary.UsersGaining, "gains", "gain"), verb(p.Summary.UsersLosing, "loses", "lose"))
		lines := append(gained, lost...)
		for i, l := range lines {
			if i == maxMarkdownLines {
				fmt.Fprintf(b, "# ... and %d more lines: see the plan's JSON (-o PLANFILE)\n", len(lines)-i)
				break
			}
			b.WriteString(textfmt.MarkdownFenced(l) + "\n")
		}
		b.WriteString("```\n\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdSide(s Side) string {
	switch {
	case s.Empty:
		return "empty"
	case s.Commit != "":
		return fmt.Sprintf("%s (%s)", textfmt.MarkdownCode(s.Ref), textfmt.MarkdownCode(textfmt.Short(s.Commit)))
	default:
		return textfmt.MarkdownCode(s.Ref)
	}
}

func mdFinding(f Finding) string {
	out := "**" + textfmt.Markdown(f.Code) + "**"
	if f.Object != "" {
		out += " " + textfmt.MarkdownCode(f.Object)
	}
	if f.File != "" {
		at := f.File
		if f.Line > 0 {
			at = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		out += " (" + textfmt.MarkdownCode(at) + ")"
	}
	return out + ": " + textfmt.Markdown(f.Message)
}
