package synth

// Static data: names, places, unit templates and the distributions that shape the entries.

// Given names by sex and birth cohort (relative to Start: 66 years and older, 36–65, under 36),
// in rough order of frequency within the cohort.
var givenNames = [2][3][]string{
	{ // male
		{"Lars", "Karl", "Per", "Bengt", "Lennart", "Sven", "Bo", "Göran", "Nils", "Hans", "Rolf", "Leif",
			"Kjell", "Stig", "Åke", "Ingvar", "Gunnar", "Olof", "Rune", "Sture", "Bertil", "Gösta"},
		{"Anders", "Johan", "Mikael", "Peter", "Thomas", "Daniel", "Fredrik", "Magnus", "Stefan", "Jonas",
			"Andreas", "Mattias", "Martin", "Henrik", "Patrik", "Niklas", "Marcus", "Jörgen", "Tobias", "Mats",
			"Mohammed", "Ali"},
		{"William", "Liam", "Noah", "Hugo", "Lucas", "Oliver", "Elias", "Adam", "Alexander", "Oscar",
			"Viktor", "Filip", "Erik", "Axel", "Emil", "Anton", "Isak", "Leo", "Theo", "Ludvig", "Omar", "Sixten"},
	},
	{ // female
		{"Kerstin", "Birgitta", "Margareta", "Ingrid", "Gunilla", "Ulla", "Elisabeth", "Karin", "Eva", "Britt",
			"Barbro", "Inger", "Marianne", "Anita", "Gun", "Christina", "Lena", "Solveig", "Gunnel", "Siv",
			"Maj", "Ingegerd"},
		{"Anna", "Maria", "Sara", "Kristina", "Emma", "Malin", "Jenny", "Marie", "Helena", "Camilla",
			"Annika", "Susanne", "Johanna", "Sofia", "Linda", "Therese", "Petra", "Åsa", "Cecilia", "Karolina",
			"Fatima", "Jessica"},
		{"Alice", "Maja", "Elsa", "Ella", "Wilma", "Astrid", "Ebba", "Julia", "Saga", "Freja", "Agnes",
			"Alma", "Olivia", "Selma", "Vera", "Signe", "Linnéa", "Klara", "Hanna", "Ida", "Matilda", "Elin"},
	},
}

// familyNames are common Swedish family names in rough order of frequency.
var familyNames = []string{
	"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
	"Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson",
	"Lindberg", "Jakobsson", "Magnusson", "Olofsson", "Lindström", "Lindqvist", "Lindgren", "Berg",
	"Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren", "Lundqvist", "Mattsson", "Berglund",
	"Fredriksson", "Sandberg", "Henriksson", "Forsberg", "Sjöberg", "Ali", "Wallin", "Mohammed",
	"Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk", "Bergman", "Gunnarsson",
	"Holm", "Wikström", "Samuelsson", "Isaksson", "Fransson", "Bergqvist", "Nyström", "Holmberg",
	"Arvidsson", "Löfgren", "Söderberg", "Nyberg", "Blomqvist", "Claesson", "Nordström", "Mårtensson",
	"Lundström", "Ahmed", "Viklund", "Björklund", "Eliasson", "Pålsson", "Hassan", "Berggren",
	"Sandström", "Lund", "Nordin", "Ström", "Åberg", "Hermansson", "Ekström", "Falk", "Holmgren",
	"Dahlberg", "Hellström", "Hedlund", "Sundberg", "Sjögren", "Ek", "Blom", "Abrahamsson",
	"Martinsson", "Öberg", "Andreasson", "Strömberg", "Månsson", "Åström", "Yilmaz", "Nguyen",
}

// streetNames are common Swedish street names.
var streetNames = []string{
	"Storgatan", "Kyrkogatan", "Drottninggatan", "Skolgatan", "Ringvägen", "Björkvägen", "Tallvägen",
	"Granvägen", "Ekvägen", "Lindvägen", "Parkvägen", "Villavägen", "Stationsgatan", "Järnvägsgatan",
	"Industrigatan", "Sjövägen", "Strandvägen", "Solvägen", "Ängsvägen", "Backvägen", "Torggatan",
	"Nygatan", "Västra vägen", "Östra Storgatan", "Kungsgatan", "Trädgårdsgatan", "Skogsvägen",
	"Bäckvägen", "Rönnvägen", "Lärkvägen", "Fågelvägen", "Hamngatan", "Allégatan", "Prästgårdsvägen",
	"Skolvägen", "Kvarnvägen", "Åsvägen", "Hagvägen", "Mossvägen", "Vallgatan",
}

// Parts of generated place names ("Björkby", "Ekdalen", "Norra Lindholm").
var (
	placePrefixes = []string{
		"Björk", "Ek", "Lind", "Gran", "Tall", "Sjö", "Berg", "Dal", "Näs", "Hag", "Ängs", "Lunds",
		"Vik", "Strand", "Hög", "Mal", "Ås", "Rosen", "Sol", "Skog", "Al", "Asp", "Hassel", "Rönn",
		"Norr", "Söder", "Väster", "Öster", "Kvarn", "Kyrk", "Bro", "Fors", "Hammar", "Ny", "Sand", "Sten",
	}
	placeSuffixes = []string{
		"by", "berga", "dalen", "holm", "viken", "näs", "lunda", "hagen", "åsen", "torp", "sund", "backa",
		"bo", "fors", "köping",
	}
	placeQualifiers = []string{"", "Norra ", "Södra ", "Västra ", "Östra "}
)

// hospitalNames name the hospitals whose departments become units; more are made from places.
var hospitalNames = []string{
	"Centrallasarettet", "Södra sjukhuset", "Norra länssjukhuset", "Västra lasarettet",
	"Östra sjukhuset", "Universitetssjukhuset",
}

// Title indexes.
const (
	titleDoctor = iota
	titleNurse
	titleAssistantNurse
	titleSecretary
	titlePhysiotherapist
	titlePsychologist
	titleSocialWorker
	titleMidwife
	numTitles
)

var titleNames = [numTitles]string{
	"Läkare", "Sjuksköterska", "Undersköterska", "Medicinsk sekreterare", "Fysioterapeut",
	"Psykolog", "Kurator", "Barnmorska",
}

// titleActivity scales how many accesses a staff member with the title makes.
var titleActivity = [numTitles]float64{1.3, 1.2, 0.7, 1.5, 0.8, 0.9, 0.8, 1.0}

// Medarbetaruppdrag (the assignment a user acts under).
const (
	assignmentCare    = "Vård och behandling"
	assignmentAdmin   = "Vårdadministration"
	assignmentQuality = "Kvalitetssäkring och uppföljning"
)

// Resource-type indexes.
const (
	resJournal = iota
	resDiagnosis
	resMedication
	resLab
	resReferral
	resVaccination
	resRadiology
	resCarePlan
	resNote
	numResourceTypes
)

var resourceTypeNames = [numResourceTypes]string{
	"Journalanteckning", "Diagnos", "Läkemedel", "Labbsvar", "Remiss", "Vaccination", "Röntgensvar",
	"Vårdplan", "Anteckning",
}

// Working-time profiles: relative access intensity per local hour, on working days (index 0)
// and on weekends and public holidays (index 1).
type profile uint8

const (
	profDaytime   profile = iota // office hours, closed evenings and weekends
	profWard                     // 24/7 with a night dip and morning rounds
	profEmergency                // 24/7, busiest afternoon and evening
	profExtended                 // labs and radiology: long days, a thin night service
	numProfiles
)

var profiles = [numProfiles][2][24]float64{
	profDaytime: {
		{0.004, 0.003, 0.003, 0.003, 0.004, 0.008, 0.12, 0.65, 1, 1, 1, 0.9,
			0.6, 0.95, 1, 0.95, 0.8, 0.45, 0.12, 0.05, 0.03, 0.02, 0.01, 0.006},
		{0.003, 0.002, 0.002, 0.002, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.03, 0.03,
			0.02, 0.02, 0.02, 0.02, 0.015, 0.01, 0.008, 0.006, 0.005, 0.004, 0.004, 0.003},
	},
	profWard: {
		{0.28, 0.22, 0.18, 0.16, 0.16, 0.25, 0.5, 0.9, 1, 1, 1, 0.9,
			0.75, 0.9, 0.95, 0.85, 0.7, 0.6, 0.55, 0.5, 0.5, 0.55, 0.42, 0.32},
		{0.28, 0.22, 0.18, 0.16, 0.16, 0.24, 0.45, 0.75, 0.8, 0.8, 0.78, 0.7,
			0.6, 0.68, 0.7, 0.65, 0.58, 0.52, 0.5, 0.48, 0.48, 0.52, 0.4, 0.32},
	},
	profEmergency: {
		{0.45, 0.38, 0.32, 0.28, 0.26, 0.28, 0.35, 0.5, 0.7, 0.85, 0.95, 1,
			1, 1, 1, 1, 1, 1, 0.98, 0.95, 0.9, 0.8, 0.68, 0.55},
		{0.5, 0.42, 0.36, 0.3, 0.27, 0.28, 0.33, 0.45, 0.65, 0.85, 0.95, 1,
			1, 1, 1, 1, 1, 1, 0.98, 0.95, 0.9, 0.82, 0.7, 0.58},
	},
	profExtended: {
		{0.12, 0.1, 0.09, 0.08, 0.08, 0.1, 0.3, 0.8, 1, 1, 1, 0.95,
			0.8, 0.95, 1, 0.95, 0.85, 0.6, 0.35, 0.25, 0.2, 0.17, 0.15, 0.13},
		{0.1, 0.09, 0.08, 0.07, 0.07, 0.08, 0.12, 0.2, 0.3, 0.35, 0.35, 0.35,
			0.3, 0.3, 0.3, 0.3, 0.28, 0.25, 0.2, 0.18, 0.15, 0.13, 0.12, 0.11},
	},
}

// Kinds of care unit.
type unitKind uint8

const (
	kindPrimary     unitKind = iota // vårdcentral
	kindChildHealth                 // barnavårdscentral
	kindMidwife                     // barnmorskemottagning
	kindEmergency                   // akutmottagning
	kindICU                         // intensivvård
	kindWard                        // vårdavdelning
	kindChildWard                   // barnavdelning
	kindGeriatric                   // geriatrik
	kindClinic                      // specialistmottagning
	kindChildClinic                 // barnmottagning
	kindPsych                       // psykiatrisk öppenvård
	kindChildPsych                  // barn- och ungdomspsykiatri
	kindPsychWard                   // psykiatrisk heldygnsvård
	kindWomen                       // kvinnoklinik
	kindDelivery                    // förlossning
	kindRadiology                   // röntgen
	kindLab                         // klinisk kemi
	kindRehab                       // rehabilitering
	numKinds
)

// kindSpec describes how a kind of unit behaves.
type kindSpec struct {
	profile  profile
	weight   float64 // relative access volume of one unit
	staffing float64 // relative staff size of one unit
	// Catchment: a fraction of the population (at most capN) for hospital units; primary-care
	// units take their area. Patients outside [minAge, maxAge] (and men, if women) are left out.
	frac           float64
	capN           int
	minAge, maxAge int
	women          bool
	titles         [numTitles]int        // title weights of the unit's staff
	resources      [numResourceTypes]int // resource-type weights of the unit's entries
	patientPortal  bool                  // whose patients use the 1177 e-services
	area           bool                  // primary care: takes an area as catchment
}

// Resource weights by column: Journalanteckning, Diagnos, Läkemedel, Labbsvar, Remiss,
// Vaccination, Röntgensvar, Vårdplan, Anteckning. Title weights by column: Läkare,
// Sjuksköterska, Undersköterska, Medicinsk sekreterare, Fysioterapeut, Psykolog, Kurator,
// Barnmorska.
var kinds = [numKinds]kindSpec{
	kindPrimary: {profile: profDaytime, weight: 1.0, staffing: 1.0, minAge: 0, maxAge: 200,
		titles: [numTitles]int{26, 30, 14, 13, 9, 4, 4, 0}, resources: [numResourceTypes]int{34, 9, 15, 16, 8, 4, 3, 2, 9},
		patientPortal: true, area: true},
	kindChildHealth: {profile: profDaytime, weight: 0.5, staffing: 0.4, minAge: 0, maxAge: 6,
		titles: [numTitles]int{15, 75, 0, 5, 0, 5, 0, 0}, resources: [numResourceTypes]int{40, 3, 3, 3, 4, 30, 0, 5, 12},
		patientPortal: true, area: true},
	kindMidwife: {profile: profDaytime, weight: 0.5, staffing: 0.4, minAge: 16, maxAge: 46, women: true,
		titles: [numTitles]int{8, 5, 5, 7, 0, 0, 5, 70}, resources: [numResourceTypes]int{40, 4, 6, 18, 4, 2, 4, 10, 12},
		patientPortal: true, area: true},
	kindEmergency: {profile: profEmergency, weight: 3.0, staffing: 2.5, frac: 0.35, capN: 400_000, minAge: 0, maxAge: 200,
		titles: [numTitles]int{32, 40, 22, 6, 0, 0, 0, 0}, resources: [numResourceTypes]int{30, 10, 10, 20, 6, 1, 14, 2, 7}},
	kindICU: {profile: profWard, weight: 1.3, staffing: 1.6, frac: 0.01, capN: 4_000, minAge: 0, maxAge: 200,
		titles: [numTitles]int{20, 50, 26, 2, 2, 0, 0, 0}, resources: [numResourceTypes]int{30, 6, 18, 22, 2, 0, 8, 8, 6}},
	kindWard: {profile: profWard, weight: 1.5, staffing: 1.4, frac: 0.03, capN: 15_000, minAge: 16, maxAge: 200,
		titles: [numTitles]int{16, 40, 34, 5, 4, 0, 1, 0}, resources: [numResourceTypes]int{32, 7, 17, 18, 4, 0, 7, 8, 7}},
	kindChildWard: {profile: profWard, weight: 0.9, staffing: 1.0, frac: 0.05, capN: 8_000, minAge: 0, maxAge: 17,
		titles: [numTitles]int{20, 45, 25, 5, 2, 0, 3, 0}, resources: [numResourceTypes]int{34, 7, 15, 18, 4, 2, 5, 8, 7}},
	kindGeriatric: {profile: profWard, weight: 1.2, staffing: 1.2, frac: 0.05, capN: 10_000, minAge: 65, maxAge: 200,
		titles: [numTitles]int{14, 36, 38, 5, 6, 0, 1, 0}, resources: [numResourceTypes]int{34, 7, 22, 15, 3, 1, 5, 8, 5}},
	kindClinic: {profile: profDaytime, weight: 0.9, staffing: 0.7, frac: 0.06, capN: 30_000, minAge: 0, maxAge: 200,
		titles: [numTitles]int{36, 30, 9, 20, 4, 0, 1, 0}, resources: [numResourceTypes]int{36, 10, 12, 14, 10, 1, 8, 3, 6}},
	kindChildClinic: {profile: profDaytime, weight: 0.8, staffing: 0.7, frac: 0.3, capN: 30_000, minAge: 0, maxAge: 17,
		titles: [numTitles]int{32, 36, 8, 14, 2, 4, 4, 0}, resources: [numResourceTypes]int{34, 8, 10, 12, 6, 12, 3, 5, 10}},
	kindPsych: {profile: profDaytime, weight: 0.8, staffing: 0.8, frac: 0.05, capN: 20_000, minAge: 18, maxAge: 200,
		titles: [numTitles]int{24, 26, 5, 12, 0, 18, 15, 0}, resources: [numResourceTypes]int{45, 10, 15, 3, 5, 0, 0, 12, 10}},
	kindChildPsych: {profile: profDaytime, weight: 0.6, staffing: 0.6, frac: 0.2, capN: 10_000, minAge: 4, maxAge: 17,
		titles: [numTitles]int{18, 20, 0, 10, 0, 27, 25, 0}, resources: [numResourceTypes]int{45, 10, 12, 2, 6, 0, 0, 14, 11}},
	kindPsychWard: {profile: profWard, weight: 0.9, staffing: 1.1, frac: 0.01, capN: 3_000, minAge: 18, maxAge: 200,
		titles: [numTitles]int{15, 35, 35, 5, 0, 5, 5, 0}, resources: [numResourceTypes]int{45, 8, 20, 4, 2, 0, 0, 12, 9}},
	kindWomen: {profile: profDaytime, weight: 0.7, staffing: 0.6, frac: 0.25, capN: 30_000, minAge: 14, maxAge: 200, women: true,
		titles: [numTitles]int{38, 25, 12, 15, 0, 0, 2, 8}, resources: [numResourceTypes]int{38, 10, 10, 14, 8, 1, 6, 5, 8}},
	kindDelivery: {profile: profWard, weight: 1.0, staffing: 1.2, frac: 0.4, capN: 20_000, minAge: 16, maxAge: 46, women: true,
		titles: [numTitles]int{15, 10, 25, 5, 0, 0, 2, 43}, resources: [numResourceTypes]int{38, 4, 8, 18, 2, 1, 3, 14, 12}},
	kindRadiology: {profile: profExtended, weight: 0.8, staffing: 0.8, frac: 0.25, capN: 100_000, minAge: 0, maxAge: 200,
		titles: [numTitles]int{40, 30, 8, 22, 0, 0, 0, 0}, resources: [numResourceTypes]int{18, 2, 0, 2, 25, 0, 52, 0, 1}},
	kindLab: {profile: profExtended, weight: 0.5, staffing: 0.5, frac: 0.5, capN: 150_000, minAge: 0, maxAge: 200,
		titles: [numTitles]int{25, 45, 20, 10, 0, 0, 0, 0}, resources: [numResourceTypes]int{8, 2, 0, 82, 5, 0, 0, 0, 3}},
	kindRehab: {profile: profDaytime, weight: 0.6, staffing: 0.6, frac: 0.04, capN: 10_000, minAge: 0, maxAge: 200,
		titles: [numTitles]int{10, 14, 18, 10, 40, 3, 5, 0}, resources: [numResourceTypes]int{40, 5, 3, 2, 10, 0, 3, 25, 12},
		patientPortal: true},
}

// deptTemplate is a hospital department; a name with %d is a numbered ward.
type deptTemplate struct {
	name     string
	kind     unitKind
	numbered bool
}

// hospitalDepts lists a hospital's departments, the essential ones first so that small
// configurations still get an emergency department, an ICU and wards.
var hospitalDepts = []deptTemplate{
	{"Akutmottagningen", kindEmergency, false},
	{"Intensivvårdsavdelningen", kindICU, false},
	{"Medicinavdelning", kindWard, true},
	{"Kardiologiska kliniken", kindWard, false},
	{"Ortopedavdelning", kindWard, true},
	{"Barnmottagningen", kindChildClinic, false},
	{"Psykiatriska öppenvården", kindPsych, false},
	{"Röntgenavdelningen", kindRadiology, false},
	{"Klinisk kemi", kindLab, false},
	{"Kirurgavdelning", kindWard, true},
	{"Förlossningen", kindDelivery, false},
	{"Ortopedmottagningen", kindClinic, false},
	{"Kvinnokliniken", kindWomen, false},
	{"Barnavdelning", kindChildWard, true},
	{"Geriatriska kliniken", kindGeriatric, false},
	{"Infektionskliniken", kindWard, false},
	{"Neurologiska kliniken", kindClinic, false},
	{"Onkologiska kliniken", kindClinic, false},
	{"Psykiatrisk heldygnsvård avdelning", kindPsychWard, true},
	{"Hudmottagningen", kindClinic, false},
	{"Barn- och ungdomspsykiatrin", kindChildPsych, false},
	{"Ögonmottagningen", kindClinic, false},
	{"Öron-, näs- och halsmottagningen", kindClinic, false},
	{"Medicinavdelning", kindWard, true},
	{"Rehabiliteringsmedicinska kliniken", kindRehab, false},
	{"Urologiska mottagningen", kindClinic, false},
	{"Diabetesmottagningen", kindClinic, false},
	{"Hjärtintensiven", kindICU, false},
	{"Lungmottagningen", kindClinic, false},
	{"Strokeenheten", kindWard, false},
	{"Reumatologiska mottagningen", kindClinic, false},
	{"Kirurgavdelning", kindWard, true},
	{"Dagkirurgiska enheten", kindClinic, false},
	{"Smärtmottagningen", kindClinic, false},
	{"Fysioterapin", kindRehab, false},
	{"Ortopedavdelning", kindWard, true},
}

// Activity types by weight per 10 000 entries.
var activityWeights = []struct {
	name   string
	weight int
}{
	{"Läsa", 7800},
	{"Skriva", 1200},
	{"Signera", 600},
	{"Utskrift", 200},
	{"Vidimera", 120},
	{"Radera", 75},
	{"Nödöppning", 5},
}

// Activity indexes, in the order of activityWeights.
const (
	actRead = iota
	actWrite
	actSign
	actPrint
	actCountersign
	actDelete
	actEmergency
)

// levelArgs is an activityLevel with its activityArgs.
type levelArgs struct{ level, args string }

var (
	readLevels = []levelArgs{
		{"Journalöversikt", "Öppnade journalöversikt"},
		{"Journalöversikt", "Öppnade journalöversikt från patientlistan"},
		{"Journal", "Sökte i journalen på sökord"},
		{"Läkemedelslista", "Visade aktuell läkemedelslista"},
		{"Provsvar", "Visade provsvar för de senaste tolv månaderna"},
		{"Vårdkontakter", "Visade tidigare vårdkontakter"},
		{"Journal", "Öppnade journalen via sammanhållen vy"},
	}
	printLevels = []levelArgs{
		{"Journalkopia", "Skrev ut journalkopia för utlämnande till patient"},
		{"Läkemedelslista", "Skrev ut aktuell läkemedelslista"},
		{"Intyg", "Skrev ut läkarintyg"},
	}
	deleteLevels = []levelArgs{
		{"Makulering", "Makulerade anteckning förd på fel patient"},
		{"Makulering", "Makulerade felaktigt registrerad uppgift"},
	}
	emergencyLevels = []levelArgs{
		{"Spärrad information", "Nödöppning: patienten medvetslös vid ankomst, behov av tidigare journaluppgifter"},
		{"Spärrad information", "Nödöppning: akut livshotande tillstånd, patienten kan inte ge samtycke"},
		{"Spärrad information", "Nödöppning: allvarlig läkemedelsreaktion, behov av läkemedelshistorik"},
	}
)

// systemTemplate describes a producing system and which optional elements it fills in: the
// systems differ, so about half of the entries carry names and half only identifiers.
type systemTemplate struct {
	local        string // local part of its HSA-id
	name         string
	userName     bool // user.name
	title        bool // user.title
	assignment   bool // user.assignment
	providerName bool // user.careProvider.careProviderName
	unitName     bool // user.careUnit.careUnitName
	patientName  bool // resources[].patient.patientName
	userPersonID bool // user.personId
	portal       bool // patient-facing e-services: used next to a unit's journal system
}

var systemTemplates = [MaxSystems]systemTemplate{
	{local: "SYS1C", name: "Cosmic", userName: true, unitName: true, patientName: true},
	{local: "SYS2T", name: "TakeCare", userName: true, title: true, assignment: true},
	{local: "SYS3M", name: "Melior", title: true, userPersonID: true},
	{local: "SYS4V", name: "1177 Vårdguiden e-tjänster", userName: true, providerName: true, unitName: true,
		patientName: true, portal: true},
}
