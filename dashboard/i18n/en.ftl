# bygd web UI: English. Every key here must be in sv.ftl and da.ftl too (a test checks).

## Frame
skip-to-content = Skip to content
nav-label = Main
nav-overview = Overview
nav-members = Members
nav-passes = Passes
nav-entries = Entries
nav-alarms = Alarms
nav-admin = Admin
language = Language
language-choose = Change
sign-out = Sign out
back-to-overview = Back to the overview
actions = Actions
never = never

## Sign-in
login-title = Sign in to bygd
login-name = Account name
login-password = Password
login-submit = Sign in
login-wrong = Wrong account name or password.
login-disabled = This account is disabled. Ask an admin to enable it.
login-throttled = Too many attempts. Wait a minute and try again.

## Errors
error-invalid = That was not quite right
error-not-found = Not found
error-conflict = That cannot be done now
error-forbidden = Your account may not do that
error-signed-out = Please sign in again
error-throttled = Too many attempts; wait a moment
error-internal = Something went wrong on the server. Its log says what.
error-sent-twice = This form was already sent (was the page reloaded?). Nothing was done again; go back to the list to see what it made.
error-no-page = There is no such page

## Overview
overview-title = Overview
overview-gateways = Sites and doors
overview-no-gateways = No gateways yet. An admin adds them under Admin → Gateways.
overview-open-alarms = Open alarms
overview-no-alarms = No open alarms.
overview-latest-entries = Latest entries
overview-no-entries = No entries yet.
online = online
offline = offline
last-seen = Last seen
revocation-list = Revocation list (gateway / site)
lagging-since = behind since { $time }
doors-of = Doors of { $gateway }
door = Door
state = State
door-control = Open or lock down
door-locked = locked
door-closed = closed
door-released = unlocked
door-open = open
door-held-open = held open
door-forced = forced open
door-lockdown = lockdown
door-unknown = unknown
time = Time
site = Site
member = Member
outcome = Outcome
outcome-granted = granted

## Alarm kinds
alarm-kind-integrity = a forged or broken batch
alarm-kind-unknown-gateway = an unknown gateway
alarm-kind-forced-open = door forced open
alarm-kind-held-open = door held open
alarm-kind-offline = gateway offline
alarm-kind-command-refused = a command was refused
alarm-kind-revocation-refused = a revocation list was refused
alarm-kind-clock = the gateway's clock
alarm-kind-bad-message = a message that made no sense
alarm-kind-revocation-lag = the gateway has an old revocation list
alarm-kind-disk-low = the gateway's disk is nearly full
alarm-kind-other = another alarm

## Roles
role-admin = admin
role-operator = operator
role-auditor = auditor

## Common
search = Search
cancel = Cancel
status = Status
active = active
revoked = revoked
created = Created
sites = Sites
doors = Doors
all-doors = all doors
list-truncated = The list is cut short; search to narrow it.
copied = Copied
copy-link = Copy the link

## Members
members-title = Members
members-search = Find a member
members-none = No members yet.
members-none-match = No member matches “{ $q }”.
member-add = Add a member
member-name = Name
member-id = Member id
member-id-hint = Lowercase letters, digits, - and _ (for example anna-berg). It is written into every pass and cannot change.
member-email = E-mail
member-revoke = Revoke the member
member-revoke-question = Revoke { $name }? Every pass of theirs stops opening doors as soon as the gateways have the new revocation list.
member-entries = Their entries

## Passes
passes-title = Passes
passes-none = No passes.
passes-show-all = Show revoked and expired passes too
passes-show-valid = Show valid passes only
pass = Pass
pass-issue = Issue a pass
pass-issued = Pass issued
pass-issued-for = A pass for { $member } is ready. Send them the link, or let them scan the code.
pass-qr-alt = The pass as a QR code
pass-once = This code and link are shown only now: bygd keeps no copy. If they are lost, revoke the pass and issue a new one.
pass-link = Pass link (for the member's phone)
pass-open-page = Open the pass page
pass-details = The pass's details
back-to-member = Back to the member
pass-doors-hint = Tick none for every door of the site.
valid-from = Valid from
valid-until = Valid until
pass-from-hint = Empty: from now. In the site's local time.
pass-until-hint = Empty: 30 days. The pass works through the end of that day.
schedule = When
schedule-always = At any time
schedule-office = Office hours (Monday to Friday 07–18)
schedule-evenings-weekends = Evenings and weekends (weekdays 17–23, weekends 08–23)
schedule-custom = Custom
schedule-custom-text = Custom schedule
schedule-hint = Days and hours in the site's time, for example mon-fri 07:00-22:00; sat 10:00-16:00
pass-kind = Kind
pass-kind-member = member
pass-kind-guest = guest
pass-kind-staff = staff
pass-kind-break-glass = emergency
pass-issued-by = Issued by
pass-qr-gone = The QR code is shown only when a pass is issued.
pass-revoke = Revoke the pass
pass-revoke-question = Revoke this pass of { $member }? It stops opening doors as soon as the gateways have the new revocation list.

## Doors and commands
gateway = Gateway
confirm = Please confirm
refresh = Refresh
command = Command
requested-by = Requested by
back-to-door = Back to the door
door-offline-hint = Commands wait until it is back, for a short while.
door-unlock = Unlock
door-unlock-for = For how long
seconds-n = { $n ->
    [one] { $n } second
   *[other] { $n } seconds
}
door-unlock-question = Unlock { $door } for { $seconds } seconds?
door-unlock-yes = Yes, unlock
door-lockdown-title = Lockdown
door-lockdown-hint = In lockdown a door opens for no pass; only an admin's emergency pass and the exit button still work.
door-lockdown-on = Lock down this door
door-lockdown-off = End this door's lockdown
gateway-lockdown-on = Lock down every door here
gateway-lockdown-off = End lockdown of every door here
door-lockdown-on-question = Lock down { $door }? No pass will open it until the lockdown ends.
door-lockdown-off-question = End the lockdown of { $door }?
gateway-lockdown-on-question = Lock down every door of { $gateway }? No pass will open them until the lockdown ends.
gateway-lockdown-off-question = End the lockdown of every door of { $gateway }?
door-recent-commands = Recent commands
command-queued = waiting to be sent
command-sent = sent, waiting for the gateway
command-done = done
command-refused = refused by the gateway
command-not-sent = not sent in time (the gateway was unreachable)
command-no-result = no answer in time
command-unknown = unknown
command-pending-hint = This page updates by itself.

## Entries
entries-title = Entries
choose-site = Choose a site
all-sites = All sites
outcome-any = Any
outcome-denied = refused
entries-since = From (date)
entries-until = To (date)
entries-filter = Filter
entries-export = Export as CSV
entries-none = No entries match.
entries-older = Older entries
reason = Reason

## Alarms
alarms-title = Alarms
alarms-show-all = Show closed alarms too
alarms-show-open = Show open alarms only
alarms-none = No alarms.
alarm = Alarm
alarm-open = open
alarm-closed = Closed
alarm-first = First
alarm-last = Last
alarm-count = Times
alarm-detail = What happened
alarm-acked-by = Acknowledged by
alarm-note = Note
alarm-note-hint = What you did about it, for whoever looks next.
alarm-acknowledge = Acknowledge and close
alarm-events = The gateway's events around it
alarm-no-events = No events of the gateway around that time.
event = Event

## Admin
save = Save
download = Download
admin-accounts = Accounts
admin-tokens = API tokens
admin-gateways = Gateways
admin-trail = Trail of actions
admin-account = Account
admin-account-add = Add an account
admin-account-hint = Lowercase letters, digits and - _ . @ (an e-mail address works).
admin-account-made = Account { $name } is ready.
admin-password-once = Its password, shown only now (give it to the person; they sign in with it):
admin-role = Role
admin-sessions = Signed in
admin-disabled = disabled
admin-sites-hint = * for every site, or site ids separated by commas.
admin-role-and-sites = Role and sites
admin-access = Access
admin-access-hint = A new password or disabling the account signs it out everywhere at once.
admin-new-password = Make a new password
admin-disable = Disable the account
admin-enable = Enable the account
admin-tokens-none = No API tokens.
admin-token-name = Name
admin-scopes = What it may do
admin-last-used = Last used
admin-token-revoke = Revoke
admin-token-create = Create a token
admin-token-days = Valid for (days; empty: until revoked)
admin-token-once = The token, shown only now: copy it into the system that uses it.
admin-gateway-add = Add a gateway
admin-gateway-added = Gateway { $site }/{ $gateway } is registered. Download its config file and copy it to the gateway.
admin-gateway-config = Config file
admin-gateway-id = Gateway id
admin-public-key = The gateway's public key
admin-public-key-hint = 64 hexadecimal characters: run bygd-gateway keygen on the gateway and paste what it prints.
admin-doors-hint = The door ids at this gateway, separated by commas.
admin-time-zone = The site's time zone
admin-time-zone-hint = For a new site only, for example Europe/Stockholm or Europe/Copenhagen.
admin-trail-none = No actions yet.
admin-actor = Who
admin-action = Action
admin-target = On what
admin-sites = Sites
admin-site = Site
admin-site-add = Add a site
admin-site-added = Site { $site } is added. Add its members next, and its gateway when the hardware arrives.
admin-site-id = Site id
admin-site-id-hint = Lowercase letters, digits, - and _. It is in every pass and never changes.
admin-site-name = Name
admin-site-address = Address
admin-site-language = Members' language
admin-site-language-hint = The language new members of the site get unless they choose another.
admin-site-zone-hint = Times at the site are shown in this zone, and its gateways keep it. For example Europe/Stockholm or Europe/Copenhagen.
admin-site-zone-change-hint = Gateways already installed keep the time zone of their config file: change it there too, or download their config file again.
admin-sites-none = No sites yet. Add the first one below.
admin-site-edit = Change the site

## Members, more
member-edit = Change name or e-mail
member-restore = Restore the member
member-restore-hint = Their passes that are neither revoked nor expired open doors again once the gateways have the new revocation list.

## The member's pass page
member-pass-title = Your pass
member-pass-hint = Hold this code to the reader at the door. Turn the screen's brightness up if the door does not react.
member-pass-revoked = This pass has been revoked and no longer opens doors. Ask the space for a new one.
member-pass-expired = This pass has expired and no longer opens doors. Ask the space for a new one.
pass-phone-only = This site requires passes kept on a phone, so there is no plain code to print or show. Send the member the link: they set the pass up on their phone from it.
member-pass-no-link = This pass link does not work
member-pass-no-link-detail = It was mistyped, or a newer link to the pass was sent. Use the newest link you got, or ask the space for one.
member-language = Language
member-language-site = The site's language
member-language-hint = Of their e-mails, and of their pass page when their phone is in none of these languages.
member-pass-short-name = Pass
pass-app-enrol-title = Keep the pass on this phone
pass-app-enrol-hint = The pass is then tied to this phone: its code changes every 30 seconds, and a screenshot or a forwarded link opens nothing. Do this on the phone you will use at the door, in its usual browser and not in a private window (a pass kept there is lost when the window closes); a pass link can be set up on one phone only.
pass-app-enrol-button = Keep the pass on this phone
pass-app-required-setup = This space opens only for passes kept on a phone. Press the button on the phone you will use at the door.
pass-app-enrolled = The pass is kept on this phone. Its code changes every 30 seconds; a screenshot of it opens nothing.
pass-app-offline = No connection: showing the pass as last seen. Its code still works at the door.
pass-app-other-device = This pass is kept on another phone, and only that phone can show its code. To use this one, ask the space for a new pass.
pass-app-no-key = This browser cannot keep the pass's key safely (for example in a private window or in Lockdown Mode), so the pass stays a plain code, which a screenshot copies too. Keep it to yourself.
pass-app-required-no-key = This space opens only for passes kept on a phone, and this browser cannot keep the key (for example in a private window or in Lockdown Mode). Open the link in your phone's usual browser, outside private mode. The space can see what went wrong.
pass-app-ios-install = To keep the pass on this iPhone, add it to the home screen first (Share, then Add to Home Screen) and open it from there. A pass kept in a browser tab is wiped after a week without a visit.
pass-app-enrol-failed = The pass could not be set up on this phone just now. Check the connection and try again.
pass-app-needs-script = This pass's code is drawn by the page's script: allow JavaScript for this page.
admin-site-require-device-key = Passes must be kept on a phone
admin-site-require-device-key-hint = Members then set up their pass in the pass app, and the pass link shows no plain code. A phone that cannot keep a key is told so, and its pass shows why.
pass-device-problem = Phone problem
pass-device-problem-no-webcrypto = the member's browser has no WebCrypto (too old, or not over https)
pass-device-problem-no-indexeddb = the member's browser cannot store data (a private window, or Lockdown Mode)
pass-device-problem-key-not-stored = the member's browser would not store the key (some Safari builds)
pass-device-problem-key-not-usable = the member's browser stored the key but could not use it
pass-replaced-by = Replaced by
pass-renew = Renew
pass-renew-hint = A new pass with the same doors, schedule and phone key takes over the member's link; their pass app picks it up when next online. This pass is revoked.
pass-renew-until = New end date

## Why a door or a gateway refused something (the protocol's reason codes)
reason-too-large = the code is too long
reason-bad-prefix = not a bygd code
reason-bad-encoding = the code is garbled
reason-truncated = the code is cut short
reason-trailing-bytes = the code has extra data
reason-malformed = the code is malformed
reason-unknown-key = signed by an unknown key
reason-weak-key = signed by a weak key
reason-non-canonical-signature = a malformed signature
reason-bad-signature = the signature does not verify
reason-not-yet-valid = not valid yet
reason-expired = expired
reason-wrong-site = for another site
reason-wrong-door = not for this door
reason-outside-schedule = outside its hours
reason-revoked = the pass is revoked
reason-member-revoked = the member is revoked
reason-proof-required = this door needs a phone-bound pass
reason-bad-proof = the phone's proof does not verify
reason-stale-proof = the phone's code is too old (a screenshot?)
reason-replayed-proof = the phone's code was used before
reason-lockdown = the door is locked down
reason-revocation-list-stale = the door's revocation list is too old
reason-unknown-door = an unknown door
reason-misaddressed = addressed to another gateway
reason-bad-lifetime = its lifetime is not allowed
reason-replayed-command = a command already accepted
reason-retained-command = a retained command, refused
reason-rollback = an older list than one already applied
reason-delta-mismatch = a change list that does not fit
reason-sequence-gap = events are missing
reason-chain-broken = the log's chain is broken
reason-unknown-ack = an unknown acknowledgement

## What a form says when it was refused
form-error-field = Check the field “{ $field }”: { $problem }
form-error-not-found = Not found: { $what } “{ $id }”. Check the spelling, or whether it is at one of your sites.
form-error-id = The member id: lowercase letters, digits, - and _, up to 64 (for example anna-berg).
form-error-name = The name: 1 to 200 characters (for an account: lowercase letters, digits and - _ . @).
form-error-email = The e-mail: an address like anna@example.org, or empty.
form-error-site = The site: choose one of your sites.
form-error-sites = The sites: * for every site, or ids of your sites separated by commas; at least one.
form-error-door = The doors: tick doors of the chosen site only.
form-error-doors = The doors: at least one door id, like front, separated by commas; each must be at the site.
form-error-from = Valid from: a date and time in the site's local time, not more than a year ahead.
form-error-until = Valid until: a date after the start, at most five years ahead.
form-error-since = From: a date like 2026-12-01.
form-error-filter = The filter: dates like 2026-12-01, and a site, door and member that exist.
form-error-schedule = The schedule: days and hours like mon-fri 07:00-22:00; sat 10:00-16:00.
form-error-kind = The kind: member, guest or staff.
form-error-password = The password: at least 12 characters.
form-error-public-key = The public key: the 64 hexadecimal characters bygd-gateway keygen printed.
form-error-time-zone = The time zone: a name like Europe/Stockholm or Europe/Copenhagen (for an existing site, its own).
form-error-note = The note: say in 1 to 1000 characters what was done about it.
form-error-role = The role: admin, operator or auditor.
form-error-scope = What it may do: tick at least one.
form-error-days = Valid for: a number of days, 1 to 3660, or empty.
form-error-language = The language: Svenska, Dansk or English.

## Days in schedules
day-mon = mon
day-tue = tue
day-wed = wed
day-thu = thu
day-fri = fri
day-sat = sat
day-sun = sun
day-daily = every day

## Pass link e-mail
mail-subject = Your pass for { $site }
mail-greeting = Hello { $name },
mail-intro = { $site } has given you a pass to its doors. Open this link on your phone:
mail-open = Open your pass
mail-home-screen = Then add the page to your home screen (with the browser's share or menu button), so that the pass is at hand at the door, even without a connection.
mail-valid = The pass is valid from { $from } until { $until }.
mail-personal = The link is personal: whoever has it can open the doors in your name. Do not forward this e-mail, and delete it once the pass is on your phone.
mail-footer = Sent by { $site } with bygd. If you did not expect this e-mail, tell { $site }.
pass-delivery = E-mail
pass-delivery-none = Not sent by e-mail.
pass-delivery-queued = Queued for { $to }.
pass-delivery-sent = Sent to { $to } at { $at }.
pass-delivery-failed = Not delivered to { $to } yet; the next try is at { $at }.
pass-delivery-gave-up = Not delivered to { $to }: sending was given up after { $attempts } tries.
pass-delivery-error = Last error
pass-send = Send by e-mail
pass-send-question = Send { $member } a new link to this pass by e-mail? The old link stops working at once.
pass-send-email = Send the link to the member by e-mail
