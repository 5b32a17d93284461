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
	},
}

func init() {
	for lang, m := range followUpMessages {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}
