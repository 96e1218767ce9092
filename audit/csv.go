package audit

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/permsets/permsets/engine"
)

// CSVHeader is the header row of the CSV report.
var CSVHeader = []string{"kind", "instance", "user", "set", "via", "source", "file", "line", "expires", "permissions", "detail"}

// WriteCSV writes the report as RFC 4180 CSV: one header row, then one row per holding (a user
// holding a set through one assignment or role) and per finding, with its kind first. The
// source column names the assignment, the role, or the separation-of-duties rule. Findings
// about several users (an expired assignment, a disabled set assigned) have a row per user, and
// an ineffective permission a row per set that gives it, so that a spreadsheet filters by user.
// Cells that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a carriage
// return) are prefixed with a single quote.
func WriteCSV(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := csv.NewWriter(bw)
	write := func(cells ...string) {
		for i, c := range cells {
			cells[i] = defuse(c)
		}
		_ = cw.Write(cells) // errors are sticky: cw.Error below
	}
	line := func(n int) string {
		if n <= 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	write(append([]string(nil), CSVHeader...)...)
	for _, a := range r.SystemAdmins {
		detail := "system admin"
		if a.Suspended {
			detail += "; suspended"
		}
		write(KindSystemAdmin, "", a.User, "", "", "", a.File, line(a.Line), "", "", detail)
	}
	for _, in := range r.Instances {
		for _, s := range in.SeparationOfDuties {
			detail := "violation"
			if s.Exempt {
				detail = "exempt (*=*)"
			}
			var setList, vias []string
			for _, g := range s.Grants {
				setList = append(setList, g.Permission+" from "+g.Set)
				vias = append(vias, g.Via)
			}
			write(KindSeparation, in.ID, s.User, strings.Join(setList, "; "), strings.Join(vias, "; "), s.Rule, s.File, line(s.Line), "",
				strings.Join(s.Permissions, " "), detail)
		}
		for _, p := range in.PrivilegedHolders {
			var notes []string
			if p.Superuser {
				notes = append(notes, "superuser (*=*), exempt from separation of duties")
			}
			if p.SystemAdmin {
				notes = append(notes, "system admin")
			}
			for _, g := range p.Grants {
				write(KindPrivilegedHolder, in.ID, p.User, g.Set, g.Via, "", "", "", "", strings.Join(g.Permissions, " "), strings.Join(notes, "; "))
			}
		}
		for _, d := range in.DisabledSetsAssigned {
			for _, u := range d.Users {
				write(KindDisabledAssigned, in.ID, u, d.Set, d.Via, d.Assignment+d.Role, d.File, line(d.Line), "", "", "the set is disabled: it grants nothing")
			}
		}
		for _, group := range []struct {
			kind string
			list []Expiry
		}{{KindExpiredAssignment, in.ExpiredAssignments}, {KindExpiringSoon, in.ExpiringAssignments}} {
			for _, e := range group.list {
				detail := "days left: " + strconv.Itoa(e.DaysLeft)
				for _, u := range e.Users {
					write(group.kind, in.ID, u, strings.Join(e.Sets, " "), engine.ViaDirect, e.Assignment, e.File, line(e.Line), e.Expires, "", detail)
				}
			}
		}
		for _, f := range in.IneffectivePermissions {
			for _, g := range f.Grants {
				write(KindIneffective, in.ID, f.User, g.Set, g.Via, "", "", "", "", f.Permission, "missing: "+strings.Join(f.Missing, " "))
			}
		}
		for _, s := range in.SuspendedHolders {
			write(KindSuspendedHolder, in.ID, s.User, strings.Join(s.Sets, " "), "", "", "", "", "", "", "the user is suspended: allowed nothing")
		}
		for _, e := range in.EmptyRoles {
			write(KindEmptyRole, in.ID, "", strings.Join(e.Sets, " "), engine.ViaRolePrefix+e.Role, e.Role, e.File, line(e.Line), "", "", "the role has no members")
		}
		for _, s := range in.UnassignedSets {
			write(KindUnassignedSet, in.ID, "", s.Set, "", "", s.File, line(s.Line), "", "", "assigned to nobody")
		}
		for _, s := range in.Sets {
			for _, h := range s.Holders {
				for _, u := range h.Users {
					write(KindHolding, in.ID, u, s.Set, h.Via, h.Assignment+h.Role, h.File, line(h.Line), h.Expires, "", h.Status)
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// defuse keeps a spreadsheet from reading a cell as a formula (CSV injection): a cell starting
// with =, +, -, @, a tab or a carriage return gets a leading single quote.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
