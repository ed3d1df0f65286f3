package auth

// Role is a team member's role.
type Role int

// The roles, each allowed what the ones before it are.
const (
	Observer  Role = iota + 1 // reads
	Moderator                 // acts on chat, queue and people
	Lead                      // also platform accounts, channels, rules, settings and the team
)

// ParseRole maps "lead", "moderator", "observer" to a Role (0 for anything else).
func ParseRole(s string) Role {
	switch s {
	case "observer":
		return Observer
	case "moderator":
		return Moderator
	case "lead":
		return Lead
	}
	return 0
}

// String is the role's name.
func (r Role) String() string {
	switch r {
	case Observer:
		return "observer"
	case Moderator:
		return "moderator"
	case Lead:
		return "lead"
	}
	return "none"
}

// methodRoles is the least role that may call each service.API method.
// A method missing here needs Lead (TestEveryMethodHasARole keeps the table
// complete, so a new method is classified on purpose).
var methodRoles = map[string]Role{
	// Reading.
	"Overview": Observer, "ListAccounts": Observer, "ListChannels": Observer, "RecentMessages": Observer,
	"Queue": Observer, "AuditLog": Observer, "ModEvents": Observer, "ListRules": Observer,
	"ShieldStatus": Observer, "Retention": Observer, "DryRunRule": Observer, "MessageVersions": Observer,
	"Search": Observer, "QueuePage": Observer, "QueueCounts": Observer, "MessageContext": Observer,
	"SearchMessages": Observer, "FilterAuditLog": Observer, "FilterModEvents": Observer,
	"ChannelRates": Observer, "Export": Observer, "UserCard": Observer, "UserMessages": Observer,
	"FindUsers": Observer, "PeopleMarks": Observer, "PlanEverywhere": Observer, "ActionGroup": Observer,
	"Claims": Observer,
	// Acting on chat, the queue and people.
	"ResolveItem": Moderator, "Act": Moderator, "LinkUsers": Moderator, "UnlinkUser": Moderator,
	"AddNote": Moderator, "DeleteNote": Moderator, "Watch": Moderator, "Unwatch": Moderator,
	"ResolveUserItems": Moderator, "Reverse": Moderator, "BanEverywhere": Moderator,
	"RetryAction": Moderator, "SetShield": Moderator, "RetryChannel": Moderator,
	"ClaimNext": Moderator, "ClaimItems": Moderator, "ReleaseClaims": Moderator,
	// Platform accounts, channels, rules and settings.
	"SaveAccount": Lead, "RemoveAccount": Lead, "SignIn": Lead, "SignOut": Lead,
	"JoinChannel": Lead, "LeaveChannel": Lead, "SaveRule": Lead, "DeleteRule": Lead,
	"SetShieldAuto": Lead, "SetRetention": Lead,
}

// MethodRole returns the least role that may call the service method name
// (Lead for a method it does not know).
func MethodRole(name string) Role {
	if r, ok := methodRoles[name]; ok {
		return r
	}
	return Lead
}

// Classified reports whether name has an explicit entry in the role table.
func Classified(name string) bool {
	_, ok := methodRoles[name]
	return ok
}

// May reports whether role r may call the service method name.
func (r Role) May(name string) bool { return r != 0 && r >= MethodRole(name) }
