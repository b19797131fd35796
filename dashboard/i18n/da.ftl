# bygd webgrænseflade: dansk. Hver nøgle her findes også i en.ftl og sv.ftl (en test kontrollerer).

## Ramme
skip-to-content = Spring til indholdet
nav-label = Hovedmenu
nav-overview = Overblik
nav-members = Medlemmer
nav-passes = Adgangskort
nav-entries = Adgange
nav-alarms = Alarmer
nav-admin = Administration
language = Sprog
language-choose = Skift
sign-out = Log ud
back-to-overview = Tilbage til overblikket
actions = Handlinger
never = aldrig

## Log ind
login-title = Log ind i bygd
login-name = Kontonavn
login-password = Adgangskode
login-submit = Log ind
login-wrong = Forkert kontonavn eller adgangskode.
login-disabled = Kontoen er spærret. Bed en administrator om at åbne den.
login-throttled = For mange forsøg. Vent et minut og prøv igen.

## Fejl
error-invalid = Noget var ikke helt rigtigt
error-not-found = Ikke fundet
error-conflict = Det kan ikke lade sig gøre nu
error-forbidden = Din konto må ikke gøre det
error-signed-out = Log venligst ind igen
error-throttled = For mange forsøg; vent lidt
error-internal = Noget gik galt på serveren. Dens log siger hvad.
error-sent-twice = Formularen er allerede sendt (blev siden genindlæst?). Intet blev gjort igen; gå tilbage til listen for at se, hvad den lavede.
error-no-page = Siden findes ikke

## Overblik
overview-title = Overblik
overview-gateways = Steder og døre
overview-no-gateways = Ingen gateways endnu. En administrator tilføjer dem under Administration → Gateways.
overview-open-alarms = Åbne alarmer
overview-no-alarms = Ingen åbne alarmer.
overview-latest-entries = Seneste adgange
overview-no-entries = Ingen adgange endnu.
online = forbundet
offline = afbrudt
last-seen = Sidst hørt
revocation-list = Spærreliste (gateway / sted)
lagging-since = bagud siden { $time }
doors-of = Døre på { $gateway }
door = Dør
state = Tilstand
door-control = Åbn eller spær
door-locked = låst
door-closed = lukket
door-released = låst op
door-open = åben
door-held-open = holdes åben
door-forced = brudt op
door-lockdown = spærret
door-unknown = ukendt
time = Tid
site = Sted
member = Medlem
outcome = Udfald
outcome-granted = lukket ind

## Alarmtyper
alarm-kind-integrity = en forfalsket eller ødelagt sending
alarm-kind-unknown-gateway = en ukendt gateway
alarm-kind-forced-open = døren brudt op
alarm-kind-held-open = døren holdes åben
alarm-kind-offline = gatewayen er afbrudt
alarm-kind-command-refused = en kommando blev afvist
alarm-kind-revocation-refused = en spærreliste blev afvist
alarm-kind-clock = gatewayens ur
alarm-kind-bad-message = en meningsløs besked
alarm-kind-revocation-lag = gatewayen har en gammel spærreliste
alarm-kind-disk-low = gatewayens disk er næsten fuld
alarm-kind-other = en anden alarm

## Roller
role-admin = administrator
role-operator = operatør
role-auditor = revisor

## Fælles
search = Søg
cancel = Annullér
status = Status
active = aktiv
revoked = spærret
created = Oprettet
sites = Steder
doors = Døre
all-doors = alle døre
list-truncated = Listen er afkortet; søg for at indsnævre den.
copied = Kopieret
copy-link = Kopiér linket

## Medlemmer
members-title = Medlemmer
members-search = Find et medlem
members-none = Ingen medlemmer endnu.
members-none-match = Intet medlem matcher “{ $q }”.
member-add = Tilføj et medlem
member-name = Navn
member-id = Medlems-id
member-id-hint = Små bogstaver, tal, - og _ (for eksempel anna-berg). Det skrives ind i hvert adgangskort og kan ikke ændres.
member-email = E-mail
member-revoke = Spær medlemmet
member-revoke-question = Spær { $name }? Alle deres adgangskort holder op med at åbne døre, så snart gatewayene har den nye spærreliste.
member-entries = Deres adgange

## Adgangskort
passes-title = Adgangskort
passes-none = Ingen adgangskort.
passes-show-all = Vis også spærrede og udløbne kort
passes-show-valid = Vis kun gyldige kort
pass = Adgangskort
pass-issue = Udsted et adgangskort
pass-issued = Adgangskortet er udstedt
pass-issued-for = Et adgangskort til { $member } er klar. Send linket, eller lad dem scanne koden.
pass-qr-alt = Adgangskortet som QR-kode
pass-once = Koden og linket vises kun nu: bygd gemmer ingen kopi. Hvis de bliver væk, så spær kortet og udsted et nyt.
pass-link = Link til kortet (til medlemmets telefon)
pass-open-page = Åbn kortets side
pass-details = Kortets oplysninger
back-to-member = Tilbage til medlemmet
pass-doors-hint = Sæt ingen kryds for alle stedets døre.
valid-from = Gyldigt fra
valid-until = Gyldigt til
pass-from-hint = Tomt: fra nu. I stedets lokale tid.
pass-until-hint = Tomt: 30 dage. Kortet gælder til og med den dag.
schedule = Hvornår
schedule-always = Når som helst
schedule-office = Kontortid (mandag til fredag 07–18)
schedule-evenings-weekends = Aftener og weekender (hverdage 17–23, weekender 08–23)
schedule-custom = Eget skema
schedule-custom-text = Eget skema
schedule-hint = Dage og tider i stedets tid, for eksempel mon-fri 07:00-22:00; sat 10:00-16:00
pass-kind = Type
pass-kind-member = medlem
pass-kind-guest = gæst
pass-kind-staff = personale
pass-kind-break-glass = nødkort
pass-issued-by = Udstedt af
pass-qr-gone = QR-koden vises kun, når et kort udstedes.
pass-revoke = Spær kortet
pass-revoke-question = Spær dette kort for { $member }? Det holder op med at åbne døre, så snart gatewayene har den nye spærreliste.

## Døre og kommandoer
gateway = Gateway
confirm = Bekræft
refresh = Opdatér
command = Kommando
requested-by = Bestilt af
back-to-door = Tilbage til døren
door-offline-hint = Kommandoer venter et kort stykke tid, til den er tilbage.
door-unlock = Lås op
door-unlock-for = Hvor længe
seconds-n = { $n ->
    [one] { $n } sekund
   *[other] { $n } sekunder
}
door-unlock-question = Låse { $door } op i { $seconds } sekunder?
door-unlock-yes = Ja, lås op
door-lockdown-title = Spærring
door-lockdown-hint = En spærret dør åbner ikke for noget adgangskort; kun en administrators nødkort og udgangsknappen virker.
door-lockdown-on = Spær denne dør
door-lockdown-off = Ophæv spærringen af denne dør
gateway-lockdown-on = Spær alle døre her
gateway-lockdown-off = Ophæv spærringen af alle døre her
door-lockdown-on-question = Spærre { $door }? Intet adgangskort åbner den, før spærringen ophæves.
door-lockdown-off-question = Ophæve spærringen af { $door }?
gateway-lockdown-on-question = Spærre alle døre på { $gateway }? Intet adgangskort åbner dem, før spærringen ophæves.
gateway-lockdown-off-question = Ophæve spærringen af alle døre på { $gateway }?
door-recent-commands = Seneste kommandoer
command-queued = venter på at blive sendt
command-sent = sendt, venter på gatewayen
command-done = udført
command-refused = afvist af gatewayen
command-not-sent = ikke sendt i tide (gatewayen kunne ikke nås)
command-no-result = intet svar i tide
command-unknown = ukendt
command-pending-hint = Siden opdaterer sig selv.

## Adgange
entries-title = Adgange
choose-site = Vælg et sted
all-sites = Alle steder
outcome-any = Alle
outcome-denied = afvist
entries-since = Fra (dato)
entries-until = Til (dato)
entries-filter = Filtrér
entries-export = Eksportér som CSV
entries-none = Ingen adgange matcher.
entries-older = Ældre adgange
reason = Årsag

## Alarmer
alarms-title = Alarmer
alarms-show-all = Vis også lukkede alarmer
alarms-show-open = Vis kun åbne alarmer
alarms-none = Ingen alarmer.
alarm = Alarm
alarm-open = åben
alarm-closed = Lukket
alarm-first = Første gang
alarm-last = Seneste gang
alarm-count = Antal
alarm-detail = Hvad der skete
alarm-acked-by = Kvitteret af
alarm-note = Note
alarm-note-hint = Hvad du gjorde ved det, til den der kigger næste gang.
alarm-acknowledge = Kvittér og luk
alarm-events = Gatewayens hændelser omkring alarmen
alarm-no-events = Ingen hændelser fra gatewayen omkring det tidspunkt.
event = Hændelse

## Administration
save = Gem
download = Hent
admin-accounts = Konti
admin-tokens = API-nøgler
admin-gateways = Gateways
admin-trail = Log over handlinger
admin-account = Konto
admin-account-add = Tilføj en konto
admin-account-hint = Små bogstaver, tal og - _ . @ (en e-mailadresse virker).
admin-account-made = Kontoen { $name } er klar.
admin-password-once = Dens adgangskode, vises kun nu (giv den til personen; de logger ind med den):
admin-role = Rolle
admin-sessions = Logget ind
admin-disabled = spærret
admin-sites-hint = * for alle steder, eller steds-id adskilt af kommaer.
admin-role-and-sites = Rolle og steder
admin-access = Adgang
admin-access-hint = En ny adgangskode eller at spærre kontoen logger den ud overalt på én gang.
admin-new-password = Lav en ny adgangskode
admin-disable = Spær kontoen
admin-enable = Åbn kontoen
admin-tokens-none = Ingen API-nøgler.
admin-token-name = Navn
admin-scopes = Hvad den må
admin-last-used = Sidst brugt
admin-token-revoke = Tilbagekald
admin-token-create = Lav en nøgle
admin-token-days = Gyldig i (dage; tomt: til den tilbagekaldes)
admin-token-once = Nøglen, vises kun nu: kopiér den ind i systemet, der skal bruge den.
admin-gateway-add = Tilføj en gateway
admin-gateway-added = Gatewayen { $site }/{ $gateway } er registreret. Hent dens konfigurationsfil og kopiér den til gatewayen.
admin-gateway-config = Konfigurationsfil
admin-gateway-id = Gateway-id
admin-public-key = Gatewayens offentlige nøgle
admin-public-key-hint = 64 hexadecimale tegn: kør bygd-gateway keygen på gatewayen og indsæt, hvad den skriver.
admin-doors-hint = Dørenes id ved denne gateway, adskilt af kommaer.
admin-time-zone = Stedets tidszone
admin-time-zone-hint = Kun for et nyt sted, for eksempel Europe/Stockholm eller Europe/Copenhagen.
admin-trail-none = Ingen handlinger endnu.
admin-actor = Hvem
admin-action = Handling
admin-target = På hvad
admin-sites = Steder
admin-site = Sted
admin-site-add = Tilføj et sted
admin-site-added = Stedet { $site } er tilføjet. Tilføj dets medlemmer nu, og dets gateway, når hardwaren kommer.
admin-site-id = Steds-id
admin-site-id-hint = Små bogstaver, tal, - og _. Det står i hvert adgangskort og ændres aldrig.
admin-site-name = Navn
admin-site-address = Adresse
admin-site-language = Medlemmernes sprog
admin-site-language-hint = Det sprog, nye medlemmer på stedet får, medmindre de vælger et andet.
admin-site-zone-hint = Tider på stedet vises i denne tidszone, og stedets gateways bruger den. For eksempel Europe/Stockholm eller Europe/Copenhagen.
admin-site-zone-change-hint = Gateways, der allerede er installeret, beholder tidszonen i deres konfigurationsfil: ret den også dér, eller hent deres konfigurationsfil igen.
admin-sites-none = Ingen steder endnu. Tilføj det første nedenfor.
admin-site-edit = Ret stedet

## Medlemmer, mere
member-edit = Ret navn eller e-mail
member-restore = Genskab medlemmet
member-restore-hint = Deres adgangskort, som hverken er spærrede eller udløbne, åbner døre igen, så snart gatewayene har den nye spærreliste.

## Medlemmets adgangskort
member-pass-title = Dit adgangskort
member-pass-hint = Hold koden op mod læseren ved døren. Skru op for skærmens lysstyrke, hvis døren ikke reagerer.
member-pass-revoked = Adgangskortet er spærret og åbner ikke længere døre. Bed stedet om et nyt.
member-pass-expired = Adgangskortet er udløbet og åbner ikke længere døre. Bed stedet om et nyt.
pass-phone-only = Stedet kræver kort, der er gemt på en telefon, så der er ingen almindelig kode at udskrive eller vise. Send linket til medlemmet: de gemmer kortet på deres telefon derfra.
member-pass-no-link = Dette kortlink virker ikke
member-pass-no-link-detail = Det er skrevet forkert, eller der er sendt et nyere link til kortet. Brug det nyeste link, du har fået, eller bed stedet om et.
member-language = Sprog
member-language-site = Stedets sprog
member-language-hint = For deres e-mails, og for kortsiden når telefonen ikke er sat til et af disse sprog.
member-pass-short-name = Adgangskort
pass-app-enrol-title = Gem kortet på denne telefon
pass-app-enrol-hint = Kortet bindes så til denne telefon: koden skifter hvert 30. sekund, og et skærmbillede eller et videresendt link åbner ingenting. Gør det på den telefon, du bruger ved døren, i dens sædvanlige browser og ikke i et privat vindue (et kort, der gemmes der, forsvinder, når vinduet lukkes); et kortlink kan kun gemmes på én telefon.
pass-app-enrol-button = Gem kortet på denne telefon
pass-app-required-setup = Dette sted åbner kun for kort, der er gemt på en telefon. Tryk på knappen på den telefon, du bruger ved døren.
pass-app-enrolled = Kortet er gemt på denne telefon. Koden skifter hvert 30. sekund; et skærmbillede af den åbner ingenting.
pass-app-offline = Ingen forbindelse: kortet vises, som det sidst så ud. Koden virker stadig ved døren.
pass-app-other-device = Kortet er gemt på en anden telefon, og kun den kan vise koden. Bed stedet om et nyt kort for at bruge denne.
pass-app-no-key = Denne browser kan ikke opbevare kortets nøgle sikkert (for eksempel i et privat vindue eller i låst tilstand), så kortet forbliver en almindelig kode, som også et skærmbillede kopierer. Vis den ikke til andre.
pass-app-required-no-key = Dette sted åbner kun for kort, der er gemt på en telefon, og denne browser kan ikke opbevare nøglen (for eksempel i et privat vindue eller i låst tilstand). Åbn linket i telefonens sædvanlige browser uden privat tilstand. Stedet kan se, hvad der gik galt.
pass-app-ios-install = For at gemme kortet på din iPhone: føj det først til hjemmeskærmen (Del, derefter Føj til hjemmeskærm) og åbn det derfra. Et kort i en browserfane slettes efter en uge uden besøg.
pass-app-enrol-failed = Kortet kunne ikke gemmes på telefonen lige nu. Tjek forbindelsen, og prøv igen.
pass-app-needs-script = Kortets kode tegnes af sidens script: tillad JavaScript for denne side.
admin-site-require-device-key = Kortene skal være gemt på en telefon
admin-site-require-device-key-hint = Medlemmerne gemmer så deres kort i kortappen, og kortlinket viser ingen almindelig kode. En telefon, der ikke kan opbevare en nøgle, får det at vide, og kortet viser hvorfor.
pass-device-problem = Problem med telefonen
pass-device-problem-no-webcrypto = medlemmets browser har ikke WebCrypto (for gammel, eller ikke over https)
pass-device-problem-no-indexeddb = medlemmets browser kan ikke gemme data (privat vindue eller låst tilstand)
pass-device-problem-key-not-stored = medlemmets browser ville ikke gemme nøglen (visse Safari-versioner)
pass-device-problem-key-not-usable = medlemmets browser gemte nøglen men kunne ikke bruge den
pass-replaced-by = Erstattet af
pass-renew = Forny
pass-renew-hint = Et nyt kort med de samme døre, skema og telefonnøgle overtager medlemmets link; kortappen henter det, næste gang den er online. Dette kort spærres.
pass-renew-until = Ny slutdato

## Hvorfor en dør eller gateway afviste noget (protokollets årsagskoder)
reason-too-large = koden er for lang
reason-bad-prefix = ikke en bygd-kode
reason-bad-encoding = koden er forvansket
reason-truncated = koden er afkortet
reason-trailing-bytes = koden har overskydende data
reason-malformed = koden er forkert opbygget
reason-unknown-key = signeret med en ukendt nøgle
reason-weak-key = signeret med en svag nøgle
reason-non-canonical-signature = en forkert signatur
reason-bad-signature = signaturen stemmer ikke
reason-not-yet-valid = ikke gyldigt endnu
reason-expired = udløbet
reason-wrong-site = til et andet sted
reason-wrong-door = ikke til denne dør
reason-outside-schedule = uden for dets tider
reason-revoked = adgangskortet er spærret
reason-member-revoked = medlemmet er spærret
reason-proof-required = døren kræver et telefonbundet kort
reason-bad-proof = telefonens bevis stemmer ikke
reason-stale-proof = telefonens kode er for gammel (et skærmbillede?)
reason-replayed-proof = telefonens kode er brugt før
reason-lockdown = døren er spærret
reason-revocation-list-stale = dørens spærreliste er for gammel
reason-unknown-door = en ukendt dør
reason-misaddressed = adresseret til en anden gateway
reason-bad-lifetime = dens levetid er ikke tilladt
reason-replayed-command = en kommando, der allerede er modtaget
reason-retained-command = en gemt kommando, afvist
reason-rollback = en ældre liste end en allerede anvendt
reason-delta-mismatch = en ændringsliste, der ikke passer
reason-sequence-gap = hændelser mangler
reason-chain-broken = loggens kæde er brudt
reason-unknown-ack = en ukendt kvittering

## Hvad en formular siger, når den blev afvist
form-error-field = Kontrollér feltet “{ $field }”: { $problem }
form-error-not-found = Ikke fundet: { $what } “{ $id }”. Kontrollér stavningen, eller om det hører til et af dine steder.
form-error-id = Medlems-id: små bogstaver, tal, - og _, højst 64 (for eksempel anna-berg).
form-error-name = Navnet: 1 til 200 tegn (for en konto: små bogstaver, tal og - _ . @).
form-error-email = E-mail: en adresse som anna@example.org, eller tomt.
form-error-site = Stedet: vælg et af dine steder.
form-error-sites = Stederne: * for alle, eller id for dine steder adskilt af kommaer; mindst ét.
form-error-door = Dørene: sæt kun kryds ved døre på det valgte sted.
form-error-doors = Dørene: mindst ét dør-id, som front, adskilt af kommaer; hver dør skal findes på stedet.
form-error-from = Gyldigt fra: dato og tid i stedets lokale tid, højst et år frem.
form-error-until = Gyldigt til: en dato efter starten, højst fem år frem.
form-error-since = Fra: en dato som 2026-12-01.
form-error-filter = Filteret: datoer som 2026-12-01, og et sted, en dør og et medlem, der findes.
form-error-schedule = Skemaet: dage og tider som mon-fri 07:00-22:00; sat 10:00-16:00.
form-error-kind = Typen: medlem, gæst eller personale.
form-error-password = Adgangskoden: mindst 12 tegn.
form-error-public-key = Den offentlige nøgle: de 64 hexadecimale tegn, som bygd-gateway keygen skrev ud.
form-error-time-zone = Tidszonen: et navn som Europe/Stockholm eller Europe/Copenhagen (for et eksisterende sted dets egen).
form-error-note = Noten: skriv med 1 til 1000 tegn, hvad der blev gjort ved det.
form-error-role = Rollen: administrator, operatør eller revisor.
form-error-scope = Hvad den må: sæt mindst ét kryds.
form-error-days = Gyldig i: et antal dage, 1 til 3660, eller tomt.
form-error-language = Sproget: Svenska, Dansk eller English.

## Days in schedules
day-mon = man
day-tue = tir
day-wed = ons
day-thu = tor
day-fri = fre
day-sat = lør
day-sun = søn
day-daily = hver dag

## Pass link e-mail
mail-subject = Dit adgangskort til { $site }
mail-greeting = Hej { $name }
mail-intro = { $site } har givet dig et adgangskort til sine døre. Åbn dette link på din telefon:
mail-open = Åbn dit adgangskort
mail-home-screen = Føj derefter siden til din hjemmeskærm (med browserens del- eller menuknap), så adgangskortet er ved hånden ved døren, også uden forbindelse.
mail-valid = Adgangskortet gælder fra { $from } til { $until }.
mail-personal = Linket er personligt: den, der har det, kan åbne dørene i dit navn. Videresend ikke denne e-mail, og slet den, når adgangskortet er på telefonen.
mail-footer = Sendt af { $site } med bygd. Hvis du ikke ventede denne e-mail, så sig det til { $site }.
pass-delivery = E-mail
pass-delivery-none = Ikke sendt med e-mail.
pass-delivery-queued = I kø til { $to }.
pass-delivery-sent = Sendt til { $to } { $at }.
pass-delivery-failed = Ikke leveret til { $to } endnu; næste forsøg { $at }.
pass-delivery-gave-up = Ikke leveret til { $to }: afsendelsen blev opgivet efter { $attempts } forsøg.
pass-delivery-error = Seneste fejl
pass-send = Send med e-mail
pass-send-question = Send { $member } et nyt link til dette kort med e-mail? Det gamle link holder op med at virke med det samme.
pass-send-email = Send linket til medlemmet med e-mail
