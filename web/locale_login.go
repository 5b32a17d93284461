package web

// Texts of login through the IdP and of the login throttle, kept beside those features and
// merged into messages when the package loads; internal_test checks them like every other key.
var loginMessages = map[string]map[string]string{
	"sv": {
		"login.local":                    "Eller med användarnamn och lösenord",
		"login.throttled":                "För många misslyckade inloggningar. Vänta och försök igen om",
		"login.minutes":                  "min.",
		"oidc.loggedout":                 "Du är utloggad från vakt.",
		"oidc.logout.idp":                "Logga ut även från inloggningstjänsten",
		"oidc.password":                  "Du loggar in via inloggningstjänsten (SITHS/e-tjänstekort) och har inget lösenord i vakt att byta.",
		"oidc.continue.title":            "Du är inloggad",
		"oidc.continue.link":             "Fortsätt till vakt",
		"oidc.choose.title":              "Välj verksamhet",
		"oidc.choose.text":               "Du har roller i flera verksamheter. Välj den du vill arbeta i nu; för att byta loggar du ut och in igen.",
		"oidc.error.nostart":             "Inloggningen har gått ut eller startades inte här. Börja om från inloggningssidan.",
		"oidc.error.state":               "Svaret från inloggningstjänsten hör inte till din inloggning och avvisades. Börja om från inloggningssidan.",
		"oidc.error.idp":                 "Inloggningstjänsten avbröt inloggningen. Försök igen.",
		"oidc.error.token":               "Inloggningen kunde inte verifieras (identitetsintyget var ogiltigt, gammalt eller utfärdat för en annan tjänst). Försök igen; kontakta driften om felet kvarstår.",
		"oidc.error.tenant":              "Den valda verksamheten finns inte bland dina roller.",
		"oidc.refused.hsa_id_missing":    "Inloggningstjänsten skickade inget HSA-id för dig, så dina sökningar kan inte loggas. Kontakta din behörighetsadministratör.",
		"oidc.refused.hsa_id_invalid":    "HSA-id:t från inloggningstjänsten är inte giltigt. Kontakta din behörighetsadministratör.",
		"oidc.refused.roles_missing":     "Du har ingen roll i vakt (granskare, chef, loggadministratör, lokal administratör eller behörighetsadministratör). Kontakta din behörighetsadministratör.",
		"oidc.refused.roles_invalid":     "En roll från inloggningstjänsten har fel form (den ska vara roll@verksamhet eller roll@verksamhet/vårdenhet). Kontakta din behörighetsadministratör.",
		"oidc.refused.role_unknown":      "En roll från inloggningstjänsten finns inte i vakt. Inloggningen avvisades hellre än att ge dig andra rättigheter än avsett. Kontakta din behörighetsadministratör.",
		"oidc.refused.care_unit_invalid": "En vårdenhet i dina roller har inget giltigt HSA-id. Kontakta din behörighetsadministratör.",
		"oidc.refused.care_units_differ": "Dina roller i samma verksamhet gäller olika vårdenheter, vilket vakt inte kan visa utan att vidga någon av dem. Kontakta din behörighetsadministratör.",
		"oidc.refused.tenant_unknown":    "En av dina roller gäller en verksamhet som inte finns i vakt. Kontakta din behörighetsadministratör.",
		"oidc.refused.name_invalid":      "Namnet eller titeln från inloggningstjänsten har fel form. Kontakta din behörighetsadministratör.",
	},
	"en": {
		"login.local":                    "Or with username and password",
		"login.throttled":                "Too many failed logins. Wait and try again in",
		"login.minutes":                  "min.",
		"oidc.loggedout":                 "You are logged out of vakt.",
		"oidc.logout.idp":                "Log out of the login service too",
		"oidc.password":                  "You log in through the login service (SITHS/e-tjänstekort) and have no password in vakt to change.",
		"oidc.continue.title":            "You are logged in",
		"oidc.continue.link":             "Continue to vakt",
		"oidc.choose.title":              "Choose organisation",
		"oidc.choose.text":               "You hold roles in several organisations. Choose the one to work in now; to switch, log out and in again.",
		"oidc.error.nostart":             "The login has expired or was not started here. Start again from the login page.",
		"oidc.error.state":               "The login service's answer does not belong to your login and was refused. Start again from the login page.",
		"oidc.error.idp":                 "The login service cancelled the login. Try again.",
		"oidc.error.token":               "The login could not be verified (the identity token was invalid, old or issued for another service). Try again; contact operations if it persists.",
		"oidc.error.tenant":              "The chosen organisation is not among your roles.",
		"oidc.refused.hsa_id_missing":    "The login service sent no HSA-id for you, so your searches could not be logged. Contact your permission administrator.",
		"oidc.refused.hsa_id_invalid":    "The HSA-id from the login service is not valid. Contact your permission administrator.",
		"oidc.refused.roles_missing":     "You hold no role in vakt (granskare, chef, loggadministratör, lokal administratör or behörighetsadministratör). Contact your permission administrator.",
		"oidc.refused.roles_invalid":     "A role from the login service has the wrong form (it must be role@tenant or role@tenant/care unit). Contact your permission administrator.",
		"oidc.refused.role_unknown":      "A role from the login service does not exist in vakt. The login was refused rather than give you other rights than intended. Contact your permission administrator.",
		"oidc.refused.care_unit_invalid": "A care unit (vårdenhet) in your roles has no valid HSA-id. Contact your permission administrator.",
		"oidc.refused.care_units_differ": "Your roles in one organisation apply to different care units, which vakt cannot show without widening one of them. Contact your permission administrator.",
		"oidc.refused.tenant_unknown":    "One of your roles names an organisation that does not exist in vakt. Contact your permission administrator.",
		"oidc.refused.name_invalid":      "The name or title from the login service has the wrong form. Contact your permission administrator.",
	},
}

func init() {
	for lang, m := range loginMessages {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}
