# METADATA
# title: tests of permsets decisions
# description: |
#   Tests of decision.rego (allow and decision) over small hand-written indexes in the shape of
#   docs/engine.md: fixture (with a catalog, two instances a and b) and
#   fixture_without_catalog (wildcard keys kept as keys), in this file; the tests are in
#   decision_test.rego (held, not held), decision_grants_test.rego (expiry, suspension,
#   scoped and object grants, superusers), decision_input_test.rego (routes, malformed
#   input) and decision_fast_test.rego (the fast table, no catalog). listings_test.rego uses
#   the fixtures too.
package permsets_test

# The index of a repository with a catalog (what engine.Compile gives for it):
#
#   catalog:  people read/edit/export (scope assigned: point_person, path_assignee,
#             step_assignee), finances read/export, settings read, api read, permset assign,
#             users read/delete; people=edit implies people=read; api=read requires
#             settings=read; finances=export requires finances=read and people=export;
#             routes GET /users, GET /users/{id} (users=read), DELETE /users/{id}
#             (users=delete), GET /exports/{id} (finances=export and people=export).
#   sets:     admin (*=*) on a and b; archived (disabled) on a; coordinator on b;
#             field-organizer (scoped) on a and b; finance on a; onboarding
#             (permset=assign('staffer','finance')) on a and b; staffer on a and b; support on a.
#   holdings: alice admin on a; devon archived on a; jordan support on a, coordinator on b;
#             kwame support on a until 2027-01-01; lena and priya field-organizer through the
#             role field-team on a and b, priya finance on a; maria onboarding on a and b;
#             quinn (suspended) and sam staffer through the role organizers on a and b, sam
#             finance on a; tomas staffer on a until 2026-01-01.
fixture := _with_records(_fixture)

_fixture := {
	"catalog": {
		"known": {
			"api=read": true,
			"finances=export": true,
			"finances=read": true,
			"people=edit": true,
			"people=export": true,
			"people=read": true,
			"permset=assign": true,
			"settings=read": true,
			"users=delete": true,
			"users=read": true,
		},
		"positions": {
			"api=read": 0,
			"finances=export": 2,
			"finances=read": 4,
			"people=edit": 6,
			"people=export": 8,
			"people=read": 10,
			"permset=assign": 12,
			"settings=read": 14,
			"users=delete": 16,
			"users=read": 18,
		},
		"requires": {
			"api=read": ["settings=read"],
			"finances=export": ["finances=read", "people=export"],
		},
		"routes": {
			"DELETE": {"3": [{"segments": ["", "users", "{id}"], "permissions": ["users=delete"]}]},
			"GET": {
				"2": [{"segments": ["", "users"], "permissions": ["users=read"]}],
				"3": [
					{"segments": ["", "exports", "{id}"], "permissions": ["finances=export", "people=export"]},
					{"segments": ["", "users", "{id}"], "permissions": ["users=read"]},
				],
			},
		},
	},
	"sets": {
		"admin": {"name": "Admin", "enabled": true, "superuser": true, "grants": {}},
		"archived": {
			"name": "Archived helpdesk", "enabled": false, "superuser": false,
			"grants": {
				"people=read": [_plain("people=read")],
				"users=delete": [_plain("users=delete")],
			},
		},
		"coordinator": {
			"name": "Volunteer coordinator", "enabled": true, "superuser": false,
			"grants": {
				"people=read": [_plain("people=read")],
				"permset=assign": [_plain("permset=assign")],
			},
		},
		"field-organizer": {
			"name": "Field organizer", "enabled": true, "superuser": false,
			"grants": {
				"people=edit": [_assigned("people=edit(assigned)")],
				"people=export": [_assigned("people=export(assigned)")],
				"people=read": [_assigned("people=read(assigned)")],
			},
		},
		"finance": {
			"name": "Finance reporting", "enabled": true, "superuser": false,
			"grants": {
				"finances=export": [_plain("finances=export")],
				"finances=read": [_plain("finances=read")],
			},
		},
		"onboarding": {
			"name": "Onboarding", "enabled": true, "superuser": false,
			"grants": {"permset=assign": [{
				"text": "permset=assign('staffer','finance')",
				"unconditional": false,
				"scopes": [],
				"objects": ["staffer", "finance"],
				"relations": [],
			}]},
		},
		"staffer": {
			"name": "Staffer", "enabled": true, "superuser": false,
			"grants": {
				"people=edit": [_plain("people=edit")],
				"people=export": [_plain("people=export")],
				"people=read": [_plain("people=read")],
				"settings=read": [_plain("settings=read")],
				"users=read": [_plain("users=read")],
			},
		},
		"support": {
			"name": "Support", "enabled": true, "superuser": false,
			"grants": {
				"api=read": [_plain("api=read")],
				"users=delete": [_plain("users=delete")],
				"users=read": [_plain("users=read")],
			},
		},
	},
	"instances": {
		"a": {
			"name": "Instance A",
			"sets": ["admin", "archived", "field-organizer", "finance", "onboarding", "staffer", "support"],
			"holdings": {
				"alice": [
					{
						"set": "admin",
						"via": "direct",
						"source": "owner",
						"enabled": true,
						"superuser": true,
						"expires_ns": _never,
					},
				],
				"devon": [
					{
						"set": "archived",
						"via": "direct",
						"source": "retired",
						"enabled": false,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"jordan": [
					{
						"set": "support",
						"via": "direct",
						"source": "helpdesk",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"kwame": [
					{
						"set": "support",
						"via": "direct",
						"source": "helpdesk-temp",
						"enabled": true,
						"superuser": false,
						"expires_ns": _expires_kwame,
					},
				],
				"lena": [
					{
						"set": "field-organizer",
						"via": "role:field-team",
						"source": "field-team",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"maria": [
					{
						"set": "onboarding",
						"via": "direct",
						"source": "onboarding-a",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"priya": [
					{
						"set": "field-organizer",
						"via": "role:field-team",
						"source": "field-team",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
					{
						"set": "finance",
						"via": "direct",
						"source": "finance-a",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"quinn": [
					{
						"set": "staffer",
						"via": "role:organizers",
						"source": "organizers",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"sam": [
					{
						"set": "finance",
						"via": "direct",
						"source": "finance-a",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
					{
						"set": "staffer",
						"via": "role:organizers",
						"source": "organizers",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"tomas": [
					{
						"set": "staffer",
						"via": "direct",
						"source": "summer-staff",
						"enabled": true,
						"superuser": false,
						"expires_ns": _expires_tomas,
					},
				],
			},
			"holders": {
				"admin": ["alice"],
				"archived": ["devon"],
				"field-organizer": ["lena", "priya"],
				"finance": ["priya", "sam"],
				"onboarding": ["maria"],
				"staffer": ["quinn", "sam", "tomas"],
				"support": ["jordan", "kwame"],
			},
			"granting": {
				"*=*": ["admin"],
				"api=read": ["support"],
				"finances=export": ["finance"],
				"finances=read": ["finance"],
				"people=edit": ["field-organizer", "staffer"],
				"people=export": ["field-organizer", "staffer"],
				"people=read": ["archived", "field-organizer", "staffer"],
				"permset=assign": ["onboarding"],
				"settings=read": ["staffer"],
				"users=delete": ["archived", "support"],
				"users=read": ["staffer", "support"],
			},
			# positions: api=read finances=export finances=read people=edit people=export
			#            people=read permset=assign settings=read users=delete users=read
			"fast": {
				"alice": _row("1111111111"),
				"devon": _row("0000000000"),
				"jordan": _row("2000000011"),
				"kwame": _row("2000000022"),
				"lena": _row("0002220000"),
				"maria": _row("0000002000"),
				"priya": _row("0212220000"),
				"sam": _row("0111110101"),
				"tomas": _row("0002220202"),
			},
		},
		"b": {
			"name": "Instance B",
			"sets": ["admin", "coordinator", "field-organizer", "onboarding", "staffer"],
			"holdings": {
				"jordan": [
					{
						"set": "coordinator",
						"via": "direct",
						"source": "coordinators",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"lena": [
					{
						"set": "field-organizer",
						"via": "role:field-team",
						"source": "field-team",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"maria": [
					{
						"set": "onboarding",
						"via": "direct",
						"source": "onboarding-b",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"priya": [
					{
						"set": "field-organizer",
						"via": "role:field-team",
						"source": "field-team",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"quinn": [
					{
						"set": "staffer",
						"via": "role:organizers",
						"source": "organizers",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
				"sam": [
					{
						"set": "staffer",
						"via": "role:organizers",
						"source": "organizers",
						"enabled": true,
						"superuser": false,
						"expires_ns": _never,
					},
				],
			},
			"holders": {
				"coordinator": ["jordan"],
				"field-organizer": ["lena", "priya"],
				"onboarding": ["maria"],
				"staffer": ["quinn", "sam"],
			},
			"granting": {
				"*=*": ["admin"],
				"people=edit": ["field-organizer", "staffer"],
				"people=export": ["field-organizer", "staffer"],
				"people=read": ["coordinator", "field-organizer", "staffer"],
				"permset=assign": ["coordinator", "onboarding"],
				"settings=read": ["staffer"],
				"users=read": ["staffer"],
			},
			"fast": {
				"jordan": _row("0000011000"),
				"lena": _row("0002220000"),
				"maria": _row("0000002000"),
				"priya": _row("0002220000"),
				"sam": _row("0001110101"),
			},
		},
	},
	"suspended": {"quinn": true},
}

# The index of a repository without a catalog: wildcard grants stay wildcard keys, scopes have
# no relation fields, there is no fast table and any well-formed permission is known.
#
#   sets:     root (*=*), people-all (people=*, permset=assign), readers (*=read,
#             people=export(assigned)), all on instance c.
#   holdings: ana root; ben people-all and readers; cy readers; dee (suspended) people-all.
fixture_without_catalog := _with_records(_fixture_without_catalog)

_fixture_without_catalog := {
	"sets": {
		"people-all": {
			"name": "People", "enabled": true, "superuser": false,
			"grants": {
				"people=*": [_plain("people=*")],
				"permset=assign": [_plain("permset=assign")],
			},
		},
		"readers": {
			"name": "Readers", "enabled": true, "superuser": false,
			"grants": {
				"*=read": [_plain("*=read")],
				"people=export": [
					{
						"text": "people=export(assigned)",
						"unconditional": false,
						"scopes": ["assigned"],
						"objects": [],
						"relations": [],
					},
				],
			},
		},
		"root": {"name": "Root", "enabled": true, "superuser": true, "grants": {}},
	},
	"instances": {"c": {
		"name": "Instance C",
		"sets": ["people-all", "readers", "root"],
		"holdings": {
			"ana": [
				{
					"set": "root",
					"via": "direct",
					"source": "root",
					"enabled": true,
					"superuser": true,
					"expires_ns": _never,
				},
			],
			"ben": [
				{
					"set": "people-all",
					"via": "direct",
					"source": "people",
					"enabled": true,
					"superuser": false,
					"expires_ns": _never,
				},
				{
					"set": "readers",
					"via": "direct",
					"source": "readers",
					"enabled": true,
					"superuser": false,
					"expires_ns": _never,
				},
			],
			"cy": [
				{
					"set": "readers",
					"via": "direct",
					"source": "readers",
					"enabled": true,
					"superuser": false,
					"expires_ns": _never,
				},
			],
			"dee": [
				{
					"set": "people-all",
					"via": "direct",
					"source": "people",
					"enabled": true,
					"superuser": false,
					"expires_ns": _never,
				},
			],
		},
		"holders": {
			"people-all": ["ben", "dee"],
			"readers": ["ben", "cy"],
			"root": ["ana"],
		},
		"granting": {
			"*=*": ["root"],
			"*=read": ["readers"],
			"people=*": ["people-all"],
			"people=export": ["readers"],
			"permset=assign": ["people-all"],
		},
	}},
	"suspended": {"dee": true},
}

_plain(text) := {"text": text, "unconditional": true, "scopes": [], "objects": [], "relations": []}

_assigned(text) := {
	"text": text,
	"unconditional": false,
	"scopes": ["assigned"],
	"objects": [],
	"relations": ["path_assignee", "point_person", "step_assignee"],
}

# tomas's staffer assignment ends 2026-01-01T00:00:00Z, kwame's support 2027-01-01T00:00:00Z.
_expires_tomas := 1767225600000000000

_expires_kwame := 1798761600000000000
