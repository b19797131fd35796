# bygd webbgränssnitt: svenska. Varje nyckel här finns också i en.ftl och da.ftl (ett test kontrollerar).

## Ram
skip-to-content = Hoppa till innehållet
nav-label = Huvudmeny
nav-overview = Översikt
nav-members = Medlemmar
nav-passes = Passerkort
nav-entries = Passager
nav-alarms = Larm
nav-admin = Administration
language = Språk
language-choose = Byt
sign-out = Logga ut
back-to-overview = Tillbaka till översikten
actions = Åtgärder
never = aldrig

## Inloggning
login-title = Logga in i bygd
login-name = Kontonamn
login-password = Lösenord
login-submit = Logga in
login-wrong = Fel kontonamn eller lösenord.
login-disabled = Kontot är avstängt. Be en administratör att aktivera det.
login-throttled = För många försök. Vänta en minut och försök igen.

## Fel
error-invalid = Något stämde inte
error-not-found = Hittades inte
error-conflict = Det går inte just nu
error-forbidden = Ditt konto får inte göra det
error-signed-out = Logga in igen
error-throttled = För många försök; vänta en stund
error-internal = Något gick fel på servern. Dess logg säger vad.
error-sent-twice = Formuläret är redan skickat (laddades sidan om?). Inget gjordes en gång till; gå tillbaka till listan för att se vad det skapade.
error-no-page = Sidan finns inte

## Översikt
overview-title = Översikt
overview-gateways = Platser och dörrar
overview-no-gateways = Inga gateways ännu. En administratör lägger till dem under Administration → Gateways.
overview-open-alarms = Öppna larm
overview-no-alarms = Inga öppna larm.
overview-latest-entries = Senaste passager
overview-no-entries = Inga passager ännu.
online = ansluten
offline = frånkopplad
last-seen = Senast hörd
revocation-list = Spärrlista (gateway / plats)
lagging-since = efter sedan { $time }
doors-of = Dörrar på { $gateway }
door = Dörr
state = Läge
door-control = Öppna eller spärra
door-locked = låst
door-closed = stängd
door-released = upplåst
door-open = öppen
door-held-open = hålls öppen
door-forced = uppbruten
door-lockdown = spärrad
door-unknown = okänt
time = Tid
site = Plats
member = Medlem
outcome = Utfall
outcome-granted = insläppt

## Larmtyper
alarm-kind-integrity = en förfalskad eller trasig sändning
alarm-kind-unknown-gateway = en okänd gateway
alarm-kind-forced-open = dörren uppbruten
alarm-kind-held-open = dörren hålls öppen
alarm-kind-offline = gatewayen är frånkopplad
alarm-kind-command-refused = ett kommando nekades
alarm-kind-revocation-refused = en spärrlista nekades
alarm-kind-clock = gatewayens klocka
alarm-kind-bad-message = ett obegripligt meddelande
alarm-kind-revocation-lag = gatewayen har en gammal spärrlista
alarm-kind-disk-low = gatewayens disk är nästan full
alarm-kind-other = ett annat larm

## Roller
role-admin = administratör
role-operator = operatör
role-auditor = granskare

## Gemensamt
search = Sök
cancel = Avbryt
status = Status
active = aktiv
revoked = spärrad
created = Skapad
sites = Platser
doors = Dörrar
all-doors = alla dörrar
list-truncated = Listan är avkortad; sök för att begränsa den.
copied = Kopierad
copy-link = Kopiera länken

## Medlemmar
members-title = Medlemmar
members-search = Hitta en medlem
members-none = Inga medlemmar ännu.
members-none-match = Ingen medlem matchar ”{ $q }”.
member-add = Lägg till en medlem
member-name = Namn
member-id = Medlems-id
member-id-hint = Små bokstäver, siffror, - och _ (till exempel anna-berg). Det skrivs in i varje passerkort och kan inte ändras.
member-email = E-post
member-revoke = Spärra medlemmen
member-revoke-question = Spärra { $name }? Alla deras passerkort slutar öppna dörrar så snart gatewayerna har den nya spärrlistan.
member-entries = Deras passager

## Passerkort
passes-title = Passerkort
passes-none = Inga passerkort.
passes-show-all = Visa även spärrade och utgångna kort
passes-show-valid = Visa bara giltiga kort
pass = Passerkort
pass-issue = Utfärda ett passerkort
pass-issued = Passerkortet är utfärdat
pass-issued-for = Ett passerkort för { $member } är klart. Skicka länken, eller låt dem skanna koden.
pass-qr-alt = Passerkortet som QR-kod
pass-once = Koden och länken visas bara nu: bygd sparar ingen kopia. Om de kommer bort, spärra kortet och utfärda ett nytt.
pass-link = Länk till kortet (för medlemmens telefon)
pass-open-page = Öppna kortets sida
pass-details = Kortets uppgifter
back-to-member = Tillbaka till medlemmen
pass-doors-hint = Kryssa ingen för alla platsens dörrar.
valid-from = Giltigt från
valid-until = Giltigt till
pass-from-hint = Tomt: från nu. I platsens lokala tid.
pass-until-hint = Tomt: 30 dagar. Kortet gäller till och med den dagen.
schedule = När
schedule-always = När som helst
schedule-office = Kontorstid (måndag till fredag 07–18)
schedule-evenings-weekends = Kvällar och helger (vardagar 17–23, helger 08–23)
schedule-custom = Eget schema
schedule-custom-text = Eget schema
schedule-hint = Dagar och tider i platsens tid, till exempel mon-fri 07:00-22:00; sat 10:00-16:00
pass-kind = Typ
pass-kind-member = medlem
pass-kind-guest = gäst
pass-kind-staff = personal
pass-kind-break-glass = nödkort
pass-issued-by = Utfärdat av
pass-qr-gone = QR-koden visas bara när ett kort utfärdas.
pass-revoke = Spärra kortet
pass-revoke-question = Spärra detta kort för { $member }? Det slutar öppna dörrar så snart gatewayerna har den nya spärrlistan.

## Dörrar och kommandon
gateway = Gateway
confirm = Bekräfta
refresh = Uppdatera
command = Kommando
requested-by = Beställt av
back-to-door = Tillbaka till dörren
door-offline-hint = Kommandon väntar en kort stund tills den är tillbaka.
door-unlock = Lås upp
door-unlock-for = Hur länge
seconds-n = { $n ->
    [one] { $n } sekund
   *[other] { $n } sekunder
}
door-unlock-question = Låsa upp { $door } i { $seconds } sekunder?
door-unlock-yes = Ja, lås upp
door-lockdown-title = Spärr
door-lockdown-hint = En spärrad dörr öppnas inte för något passerkort; bara en administratörs nödkort och utgångsknappen fungerar.
door-lockdown-on = Spärra den här dörren
door-lockdown-off = Häv spärren av den här dörren
gateway-lockdown-on = Spärra alla dörrar här
gateway-lockdown-off = Häv spärren av alla dörrar här
door-lockdown-on-question = Spärra { $door }? Inget passerkort öppnar den förrän spärren hävs.
door-lockdown-off-question = Häva spärren av { $door }?
gateway-lockdown-on-question = Spärra alla dörrar på { $gateway }? Inget passerkort öppnar dem förrän spärren hävs.
gateway-lockdown-off-question = Häva spärren av alla dörrar på { $gateway }?
door-recent-commands = Senaste kommandon
command-queued = väntar på att skickas
command-sent = skickat, väntar på gatewayen
command-done = utfört
command-refused = nekat av gatewayen
command-not-sent = inte skickat i tid (gatewayen gick inte att nå)
command-no-result = inget svar i tid
command-unknown = okänt
command-pending-hint = Sidan uppdateras av sig själv.

## Passager
entries-title = Passager
choose-site = Välj en plats
all-sites = Alla platser
outcome-any = Alla
outcome-denied = nekad
entries-since = Från (datum)
entries-until = Till (datum)
entries-filter = Filtrera
entries-export = Exportera som CSV
entries-none = Inga passager matchar.
entries-older = Äldre passager
reason = Orsak

## Larm
alarms-title = Larm
alarms-show-all = Visa även stängda larm
alarms-show-open = Visa bara öppna larm
alarms-none = Inga larm.
alarm = Larm
alarm-open = öppet
alarm-closed = Stängt
alarm-first = Första gången
alarm-last = Senaste gången
alarm-count = Antal
alarm-detail = Vad som hände
alarm-acked-by = Kvitterat av
alarm-note = Anteckning
alarm-note-hint = Vad du gjorde åt det, för den som tittar härnäst.
alarm-acknowledge = Kvittera och stäng
alarm-events = Gatewayens händelser runt larmet
alarm-no-events = Inga händelser från gatewayen runt den tiden.
event = Händelse

## Administration
save = Spara
download = Hämta
admin-accounts = Konton
admin-tokens = API-nycklar
admin-gateways = Gateways
admin-trail = Logg över åtgärder
admin-account = Konto
admin-account-add = Lägg till ett konto
admin-account-hint = Små bokstäver, siffror och - _ . @ (en e-postadress fungerar).
admin-account-made = Kontot { $name } är klart.
admin-password-once = Dess lösenord, visas bara nu (ge det till personen; de loggar in med det):
admin-role = Roll
admin-sessions = Inloggad
admin-disabled = avstängt
admin-sites-hint = * för alla platser, eller plats-id åtskilda med komman.
admin-role-and-sites = Roll och platser
admin-access = Åtkomst
admin-access-hint = Ett nytt lösenord eller att stänga av kontot loggar ut det överallt på en gång.
admin-new-password = Skapa ett nytt lösenord
admin-disable = Stäng av kontot
admin-enable = Aktivera kontot
admin-tokens-none = Inga API-nycklar.
admin-token-name = Namn
admin-scopes = Vad den får göra
admin-last-used = Senast använd
admin-token-revoke = Återkalla
admin-token-create = Skapa en nyckel
admin-token-days = Giltig i (dagar; tomt: tills den återkallas)
admin-token-once = Nyckeln, visas bara nu: kopiera den till systemet som ska använda den.
admin-gateway-add = Lägg till en gateway
admin-gateway-added = Gatewayen { $site }/{ $gateway } är registrerad. Hämta dess konfigurationsfil och kopiera den till gatewayen.
admin-gateway-config = Konfigurationsfil
admin-gateway-id = Gateway-id
admin-public-key = Gatewayens publika nyckel
admin-public-key-hint = 64 hexadecimala tecken: kör bygd-gateway keygen på gatewayen och klistra in vad den skriver.
admin-doors-hint = Dörrarnas id vid den här gatewayen, åtskilda med komman.
admin-time-zone = Platsens tidszon
admin-time-zone-hint = Bara för en ny plats, till exempel Europe/Stockholm eller Europe/Copenhagen.
admin-trail-none = Inga åtgärder ännu.
admin-actor = Vem
admin-action = Åtgärd
admin-target = På vad
admin-sites = Platser
admin-site = Plats
admin-site-add = Lägg till en plats
admin-site-added = Platsen { $site } är tillagd. Lägg till dess medlemmar nu, och dess gateway när hårdvaran kommer.
admin-site-id = Plats-id
admin-site-id-hint = Små bokstäver, siffror, - och _. Det står i varje passerkort och ändras aldrig.
admin-site-name = Namn
admin-site-address = Adress
admin-site-language = Medlemmarnas språk
admin-site-language-hint = Språket som nya medlemmar på platsen får, om de inte väljer ett annat.
admin-site-zone-hint = Tider på platsen visas i den här tidszonen, och platsens gatewayer använder den. Till exempel Europe/Stockholm eller Europe/Copenhagen.
admin-site-zone-change-hint = Gatewayer som redan är installerade behåller tidszonen i sin konfigurationsfil: ändra den där också, eller hämta deras konfigurationsfil på nytt.
admin-sites-none = Inga platser ännu. Lägg till den första nedan.
admin-site-edit = Ändra platsen

## Medlemmar, mer
member-edit = Ändra namn eller e-post
member-restore = Återställ medlemmen
member-restore-hint = Deras passerkort som varken är spärrade eller utgångna öppnar dörrar igen så snart gatewayerna har den nya spärrlistan.

## Medlemmens passerkort
member-pass-title = Ditt passerkort
member-pass-hint = Håll koden mot läsaren vid dörren. Skruva upp skärmens ljusstyrka om dörren inte reagerar.
member-pass-revoked = Passerkortet är spärrat och öppnar inte längre dörrar. Be lokalen om ett nytt.
member-pass-expired = Passerkortet har gått ut och öppnar inte längre dörrar. Be lokalen om ett nytt.
pass-phone-only = Platsen kräver kort som är sparade i en telefon, så det finns ingen vanlig kod att skriva ut eller visa. Skicka länken till medlemmen: de sparar kortet i sin telefon från den.
member-pass-no-link = Den här kortlänken fungerar inte
member-pass-no-link-detail = Den är felskriven, eller så har en nyare länk till kortet skickats. Använd den senaste länken du fått, eller be lokalen om en.
member-language = Språk
member-language-site = Platsens språk
member-language-hint = För deras e-post, och för kortsidan när telefonen inte är inställd på något av dessa språk.
member-pass-short-name = Passerkort
pass-app-enrol-title = Spara kortet i den här telefonen
pass-app-enrol-hint = Kortet knyts då till den här telefonen: koden byts var 30:e sekund, och en skärmbild eller en vidarebefordrad länk öppnar ingenting. Gör det i telefonen du använder vid dörren, i dess vanliga webbläsare och inte i ett privat fönster (ett kort som sparas där försvinner när fönstret stängs); en kortlänk kan bara sparas i en telefon.
pass-app-enrol-button = Spara kortet i den här telefonen
pass-app-required-setup = Den här lokalen öppnar bara för kort som är sparade i en telefon. Tryck på knappen i telefonen du använder vid dörren.
pass-app-enrolled = Kortet är sparat i den här telefonen. Koden byts var 30:e sekund; en skärmbild av den öppnar ingenting.
pass-app-offline = Ingen uppkoppling: kortet visas som det senast såg ut. Koden fungerar ändå vid dörren.
pass-app-other-device = Kortet är sparat i en annan telefon, och bara den kan visa koden. Be lokalen om ett nytt kort för att använda den här.
pass-app-no-key = Den här webbläsaren kan inte förvara kortets nyckel säkert (till exempel i ett privat fönster eller i låst läge), så kortet förblir en vanlig kod som även en skärmbild kopierar. Visa den inte för andra.
pass-app-required-no-key = Den här lokalen öppnar bara för kort som är sparade i en telefon, och den här webbläsaren kan inte förvara nyckeln (till exempel i ett privat fönster eller i låst läge). Öppna länken i telefonens vanliga webbläsare, utan privat läge. Lokalen kan se vad som gick fel.
pass-app-ios-install = För att spara kortet i din iPhone: lägg först till det på hemskärmen (Dela, sedan Lägg till på hemskärmen) och öppna det därifrån. Ett kort i en webbläsarflik raderas efter en vecka utan besök.
pass-app-enrol-failed = Kortet kunde inte sparas i telefonen just nu. Kontrollera uppkopplingen och försök igen.
pass-app-needs-script = Kortets kod ritas av sidans skript: tillåt JavaScript för den här sidan.
admin-site-require-device-key = Korten måste vara sparade i en telefon
admin-site-require-device-key-hint = Medlemmarna sparar då sitt kort i kortappen, och kortlänken visar ingen vanlig kod. En telefon som inte kan förvara en nyckel får veta det, och kortet visar varför.
pass-device-problem = Problem med telefonen
pass-device-problem-no-webcrypto = medlemmens webbläsare saknar WebCrypto (för gammal, eller inte över https)
pass-device-problem-no-indexeddb = medlemmens webbläsare kan inte spara data (privat fönster eller låst läge)
pass-device-problem-key-not-stored = medlemmens webbläsare ville inte spara nyckeln (vissa Safari-versioner)
pass-device-problem-key-not-usable = medlemmens webbläsare sparade nyckeln men kunde inte använda den
pass-replaced-by = Ersatt av
pass-renew = Förnya
pass-renew-hint = Ett nytt kort med samma dörrar, schema och telefonnyckel tar över medlemmens länk; kortappen hämtar det nästa gång den är uppkopplad. Det här kortet spärras.
pass-renew-until = Nytt slutdatum

## Varför en dörr eller gateway nekade något (protokollets orsakskoder)
reason-too-large = koden är för lång
reason-bad-prefix = inte en bygd-kod
reason-bad-encoding = koden är förvrängd
reason-truncated = koden är avkortad
reason-trailing-bytes = koden har överflödiga data
reason-malformed = koden är felaktigt uppbyggd
reason-unknown-key = signerad med en okänd nyckel
reason-weak-key = signerad med en svag nyckel
reason-non-canonical-signature = en felaktig signatur
reason-bad-signature = signaturen stämmer inte
reason-not-yet-valid = inte giltigt än
reason-expired = utgånget
reason-wrong-site = för en annan plats
reason-wrong-door = inte för den här dörren
reason-outside-schedule = utanför dess tider
reason-revoked = passerkortet är spärrat
reason-member-revoked = medlemmen är spärrad
reason-proof-required = dörren kräver ett telefonbundet kort
reason-bad-proof = telefonens bevis stämmer inte
reason-stale-proof = telefonens kod är för gammal (en skärmbild?)
reason-replayed-proof = telefonens kod har använts förut
reason-lockdown = dörren är spärrad
reason-revocation-list-stale = dörrens spärrlista är för gammal
reason-unknown-door = en okänd dörr
reason-misaddressed = adresserat till en annan gateway
reason-bad-lifetime = dess livslängd är inte tillåten
reason-replayed-command = ett kommando som redan tagits emot
reason-retained-command = ett sparat kommando, nekat
reason-rollback = en äldre lista än en redan tillämpad
reason-delta-mismatch = en ändringslista som inte passar
reason-sequence-gap = händelser saknas
reason-chain-broken = loggens kedja är bruten
reason-unknown-ack = en okänd kvittens

## Vad ett formulär säger när det nekades
form-error-field = Kontrollera fältet ”{ $field }”: { $problem }
form-error-not-found = Hittades inte: { $what } ”{ $id }”. Kontrollera stavningen, eller om det hör till en av dina platser.
form-error-id = Medlems-id: små bokstäver, siffror, - och _, högst 64 (till exempel anna-berg).
form-error-name = Namnet: 1 till 200 tecken (för ett konto: små bokstäver, siffror och - _ . @).
form-error-email = E-post: en adress som anna@example.org, eller tomt.
form-error-site = Platsen: välj en av dina platser.
form-error-sites = Platserna: * för alla, eller id för dina platser åtskilda med komman; minst en.
form-error-door = Dörrarna: kryssa bara dörrar på den valda platsen.
form-error-doors = Dörrarna: minst ett dörr-id, som front, åtskilda med komman; varje dörr måste finnas på platsen.
form-error-from = Giltigt från: datum och tid i platsens lokala tid, högst ett år framåt.
form-error-until = Giltigt till: ett datum efter starten, högst fem år framåt.
form-error-since = Från: ett datum som 2026-12-01.
form-error-filter = Filtret: datum som 2026-12-01, och en plats, dörr och medlem som finns.
form-error-schedule = Schemat: dagar och tider som mon-fri 07:00-22:00; sat 10:00-16:00.
form-error-kind = Typen: medlem, gäst eller personal.
form-error-password = Lösenordet: minst 12 tecken.
form-error-public-key = Den publika nyckeln: de 64 hexadecimala tecken som bygd-gateway keygen skrev ut.
form-error-time-zone = Tidszonen: ett namn som Europe/Stockholm eller Europe/Copenhagen (för en befintlig plats dess egen).
form-error-note = Anteckningen: skriv med 1 till 1000 tecken vad som gjordes åt det.
form-error-role = Rollen: administratör, operatör eller granskare.
form-error-scope = Vad den får göra: kryssa minst en.
form-error-days = Giltig i: ett antal dagar, 1 till 3660, eller tomt.
form-error-language = Språket: Svenska, Dansk eller English.

## Days in schedules
day-mon = mån
day-tue = tis
day-wed = ons
day-thu = tor
day-fri = fre
day-sat = lör
day-sun = sön
day-daily = varje dag

## Pass link e-mail
mail-subject = Ditt passerkort för { $site }
mail-greeting = Hej { $name }!
mail-intro = { $site } har gett dig ett passerkort till sina dörrar. Öppna den här länken i din telefon:
mail-open = Öppna ditt passerkort
mail-home-screen = Lägg sedan till sidan på hemskärmen (med webbläsarens dela- eller menyknapp), så att passerkortet finns till hands vid dörren, även utan uppkoppling.
mail-valid = Passerkortet gäller från { $from } till { $until }.
mail-personal = Länken är personlig: den som har den kan öppna dörrarna i ditt namn. Vidarebefordra inte det här mejlet, och radera det när passerkortet finns i telefonen.
mail-footer = Skickat av { $site } med bygd. Om du inte väntade dig det här mejlet, säg till { $site }.
pass-delivery = E-post
pass-delivery-none = Inte skickat med e-post.
pass-delivery-queued = I kö till { $to }.
pass-delivery-sent = Skickat till { $to } { $at }.
pass-delivery-failed = Inte levererat till { $to } ännu; nästa försök { $at }.
pass-delivery-gave-up = Inte levererat till { $to }: sändningen gavs upp efter { $attempts } försök.
pass-delivery-error = Senaste fel
pass-send = Skicka med e-post
pass-send-question = Skicka en ny länk till det här kortet till { $member } med e-post? Den gamla länken slutar fungera direkt.
pass-send-email = Skicka länken till medlemmen med e-post
