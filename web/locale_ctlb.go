package web

// Texts of the monthly overview, the permission list and the watch list, kept beside those
// pages and merged into messages when the package loads; internal_test checks them like every
// other key.
var followUpMessages = map[string]map[string]string{
	"sv": {
		"nav.overview":             "Månadsöversikt",
		"overview.title":           "Månadsöversikt av loggkontroller",
		"overview.help":            "Vilka vårdenheter som har gjort månadens stickprov. Enheterna kommer från personalregistret (någon placerad på enheten under månaden), enheternas arbetstider och kontrollregistret. Sidan visar bara kontrollregistret, inga loggposter.",
		"overview.show":            "Visa månaden",
		"overview.caption":         "Stickprov per vårdenhet,",
		"overview.none":            "Inga vårdenheter att visa för månaden.",
		"overview.status.klar":     "Klar",
		"overview.status.pagar":    "Påbörjad",
		"overview.status.ej_gjord": "Inte gjord",
		"nav.permissions":          "Behörighetslista",
		"perm.title":               "Behörighetslista",
		"perm.help":                "Vilka som har behörighet till vårdenheten: personal som personalregistret placerar på enheten i dag och konton i vakt med roller för enheten, med senaste aktivitet i loggen från enheten. Markera den som har slutat eller bytt enhet för borttagning, med ett skäl; borttagningen görs sedan i HSA-katalogen eller av en lokal administratör.",
		"perm.show":                "Visa listan",
		"perm.logged":              "Att visa listan loggas, eftersom senaste aktivitet läses ur loggen. Varje markering och avmarkering loggas också.",
		"perm.caption":             "Behörighetslista för",
		"perm.person":              "Person",
		"perm.source":              "Behörighet genom",
		"perm.last":                "Senaste aktivitet på enheten",
		"perm.mark":                "Borttagning",
		"perm.staff":               "Personalregistret, placerad",
		"perm.account":             "Konto i vakt",
		"perm.whole":               "hela vårdgivaren",
		"perm.never":               "Ingen i loggen",
		"perm.marked":              "Markerad för borttagning",
		"perm.by":                  "av",
		"perm.unmark":              "Ta bort markeringen",
		"perm.reason":              "Skäl",
		"perm.markbtn":             "Markera för borttagning",
		"perm.none":                "Ingen har behörighet till enheten enligt registren.",
		"perm.done.marked":         "Personen är markerad för borttagning.",
		"perm.done.unmarked":       "Markeringen är borttagen.",
		"perm.bad.careUnitId":      "Vårdenhetens HSA-id är inte giltigt.",
		"perm.bad.hsaId":           "Personens HSA-id är inte giltigt.",
		"perm.bad.notholder":       "Personen finns inte på enhetens behörighetslista.",
		"perm.bad.reason":          "Skriv ett skäl (högst 500 tecken, inga styrtecken).",
	},
	"en": {
		"nav.overview":             "Monthly overview",
		"overview.title":           "Monthly overview of log controls",
		"overview.help":            "Which vårdenheter have done the month's stickprov (sample). The units come from the staff register (someone assigned to the unit during the month), the units' working hours and the control register. The page shows the control register only, no log entries.",
		"overview.show":            "Show the month",
		"overview.caption":         "Stickprov per vårdenhet,",
		"overview.none":            "No vårdenheter to show for the month.",
		"overview.status.klar":     "Done",
		"overview.status.pagar":    "Started",
		"overview.status.ej_gjord": "Not done",
		"nav.permissions":          "Permission list",
		"perm.title":               "Permission list (behörighetslista)",
		"perm.help":                "Who holds access to the vårdenhet: staff the staff register places at the unit today and vakt accounts with roles for the unit, with their last activity in the log from the unit. Mark someone who has left or moved for removal, with a reason; the removal itself is then made in the HSA directory or by a lokal administratör.",
		"perm.show":                "Show the list",
		"perm.logged":              "Showing the list is logged, since last activity is read from the log. Every mark and unmark is logged too.",
		"perm.caption":             "Permission list of",
		"perm.person":              "Person",
		"perm.source":              "Access through",
		"perm.last":                "Last activity at the unit",
		"perm.mark":                "Removal",
		"perm.staff":               "Staff register, assigned",
		"perm.account":             "vakt account",
		"perm.whole":               "whole vårdgivare",
		"perm.never":               "None in the log",
		"perm.marked":              "Marked for removal",
		"perm.by":                  "by",
		"perm.unmark":              "Remove the mark",
		"perm.reason":              "Reason",
		"perm.markbtn":             "Mark for removal",
		"perm.none":                "Nobody holds access to the unit according to the registers.",
		"perm.done.marked":         "The person is marked for removal.",
		"perm.done.unmarked":       "The mark is removed.",
		"perm.bad.careUnitId":      "The vårdenhet's HSA-id is not valid.",
		"perm.bad.hsaId":           "The person's HSA-id is not valid.",
		"perm.bad.notholder":       "The person is not on the unit's permission list.",
		"perm.bad.reason":          "Write a reason (at most 500 characters, no control characters).",
	},
}

func init() {
	for lang, m := range followUpMessages {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}
