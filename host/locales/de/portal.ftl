### Die Texte des Portals auf Deutsch: vollständig für jede Seite, die Kunden und Besucher
### sehen. Schlüssel wie in `locales/en/portal.ftl`; fehlt hier einer, zeigt die Seite den
### englischen Text.

## Jede Seite

portal-name = Kundenportal
skip-to-content = Zum Inhalt springen
nav-main = Hauptmenü
log-out = Abmelden
language-switch = Sprache der Seite
script-attached = Angehängt:
sorry = Das hat leider nicht geklappt
page-not-found = Seite nicht gefunden
request-refused = Diese Anfrage kann nicht bearbeitet werden
go-to-dashboard = Zu Ihrer Übersicht
form-expired-title = Formular abgelaufen
form-expired = Dieses Formular ist abgelaufen oder stammt nicht von dieser Website. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
back-to-requests = Zurück zu den Anfragen
continue = Weiter
submit = Absenden
save = Speichern
send = Senden
search = Suchen
filter = Filtern
sort = Sortierung
next-page = Nächste Seite
thank-you = Vielen Dank
welcome = Willkommen.
email-placeholder = name@beispiel.de

nav-dashboard = Übersicht
nav-queue = Warteschlange
nav-saved-replies = Textbausteine
nav-requests = Anfragen
nav-new-request = Neue Anfrage
nav-approvals = Freigaben
nav-invitations = Einladungen
nav-sites = Standorte
nav-people = Personen
nav-quick-links = Schnellzugriffe
nav-branding = Erscheinungsbild
nav-statuses = Status
nav-plugins = Plugins
nav-decisions = Entscheidungen
nav-webhooks = Webhooks
nav-audit-log = Protokoll
nav-mail = E-Mail
nav-notifications = Benachrichtigungen
nav-preferences = Einstellungen
nav-sessions = Sitzungen

## Formularfelder

field-email = E-Mail-Adresse
field-password = Passwort
field-current-password = Aktuelles Passwort
field-new-password = Neues Passwort
field-confirm-password = Neues Passwort bestätigen
field-given_name = Vorname
field-surname = Nachname
field-code = Bestätigungscode
field-token = Link- oder Geräteschlüssel
field-name = Name des Standorts
field-domains = E-Mail-Domain
field-subject = Betreff
field-description = Beschreibung
field-body = Nachricht
field-title = Titel
field-url = URL
field-status = Status
field-q = Suche
field-after = Seitenzeiger
field-files = Dateiname
field-input = Formular

## Warum ein Text abgelehnt wurde

input-refused = { $field }: { $why }
input-nul = NUL-Zeichen sind nicht erlaubt.
input-too-long = höchstens { $max } Zeichen erlaubt.
input-line-break = Zeilenumbrüche, Tabulatoren und andere Steuerzeichen sind nicht erlaubt.
input-direction = Rechts-nach-links-Überschreibungen und andere Richtungszeichen sind nicht erlaubt.
input-control = Steuerzeichen sind nicht erlaubt.
input-email = bitte eine Adresse wie name@beispiel.de eingeben.
input-empty = bitte einen Wert eingeben.

## Fehler, nach dem Code der API

error-invalid_credentials = E-Mail-Adresse oder Passwort ist falsch.
error-too_many_attempts = Zu viele Versuche. Bitte versuchen Sie es in { $seconds } Sekunden erneut.
error-invalid_link = Dieser Link ist ungültig, abgelaufen oder wurde bereits verwendet. Bitte fordern Sie einen neuen an.
error-wrong_code = Dieser Code ist nicht korrekt. { $left ->
    [one] Noch { $left } Versuch.
   *[other] Noch { $left } Versuche.
}
error-code_unusable = Dieser Code ist abgelaufen oder wurde ersetzt, oder es wurden zu viele falsche Codes eingegeben. Bitte senden Sie einen neuen Bestätigungscode.
error-password_rejected = Das Passwort erfüllt die Anforderungen nicht.
error-unauthenticated = Bitte melden Sie sich an.
error-forbidden = Dazu sind Sie nicht berechtigt.
error-not_found = Nicht gefunden.
error-conflict = Jemand anderes hat dies geändert, während Sie es angesehen haben. Laden Sie die Seite neu, um die Änderungen zu sehen, und versuchen Sie es dann erneut.
error-not_eligible = Wir konnten diese Adresse keinem Kunden mit aktivem Wartungsvertrag zuordnen. Bitte wenden Sie sich an Ihre zuständige Vertretung.
error-awaiting_activation = Ihr Konto wartet auf die Freischaltung. Ihr Standort-Administrator – oder Ihre zuständige Vertretung, wenn Sie die erste Person Ihres Unternehmens sind – schaltet es frei.
error-account_disabled = Mit diesem Konto ist keine Anmeldung möglich. Wenden Sie sich an Ihren Standort-Administrator oder Ihre zuständige Vertretung.
error-temporary_password_expired = Ihr vorläufiges Passwort ist abgelaufen. Bitten Sie darum, die Einladung erneut zu senden.
error-wrong_current_password = Das aktuelle Passwort ist nicht korrekt.
error-site_not_eligible = Bitte wählen Sie einen der aufgeführten Standorte.
error-invalid_language = Bitte wählen Sie eine Sprache aus der Liste.
error-invalid_time_zone = Bitte wählen Sie eine Zeitzone aus der Liste.
error-invalid_rating = Bitte bewerten Sie die Anfrage mit gut oder schlecht.
error-request_open = Eine Anfrage kann bewertet werden, sobald sie geschlossen ist.
error-nothing_to_change = Schreiben Sie eine Nachricht oder wählen Sie einen neuen Status oder eine neue Zuständigkeit.
error-no_site = Nur Kunden eines Standorts können Anfragen stellen.
error-rule_unavailable = Diese Regel kann gerade nicht geprüft werden, daher wurde nichts geändert. Bitte versuchen Sie es gleich noch einmal.
error-database_unavailable = Der Dienst ist kurz nicht erreichbar; es wurde nichts geändert. Bitte versuchen Sie es in ein paar Sekunden erneut.
error-internal = Bei uns ist etwas schiefgegangen; es wurde nichts geändert. Bitte versuchen Sie es erneut.
error-body_too_large = Die Anfrage ist zu groß.
error-status-404 = Unter dieser Adresse gibt es nichts.
error-status-405 = Diese Adresse unterstützt diese Methode nicht.
error-status-408 = Die Anfrage kam zu langsam an und wurde geschlossen. Bitte versuchen Sie es erneut.
error-status-413 = Die Anfrage ist zu groß.
error-status-500 = Bei uns ist etwas schiefgegangen; es wurde nichts geändert. Bitte versuchen Sie es erneut.
violation-confirmation-mismatch = Die Bestätigung stimmt nicht mit dem neuen Passwort überein.

## Startseite, Anmeldung, Bestätigung

home-intro = Verfolgen Sie Ihre Supportanfragen und sprechen Sie mit unserem Team – alles an einem Ort.
login-title = Anmelden
login-forgot = Passwort vergessen?
login-stay = Angemeldet bleiben
login-submit = Anmelden
login-new = Neu im Portal?
join-now = Jetzt registrieren
notice-reset = Ihr Passwort wurde geändert. Melden Sie sich mit dem neuen Passwort an.
notice-created = Ihr Konto ist bereit. Melden Sie sich mit Ihrem neuen Passwort an.
notice-logged-out = Sie haben sich abgemeldet.
notice-ended = Sie wurden überall abgemeldet.
mfa-page-title = E-Mail-Adresse bestätigen
mfa-title = Mehrstufige Anmeldung
mfa-intro = Zum Schutz Ihres Kontos müssen wir Ihre E-Mail-Adresse bestätigen:
mfa-send = Bestätigungscode senden
mfa-sent = Wir haben einen Bestätigungscode an { $email } gesendet. Sehen Sie bitte auch im Spam-Ordner nach, falls er nicht ankommt.
mfa-remember = Auf diesem Gerät { $days } Tage lang nicht mehr fragen
mfa-verify = Code bestätigen
verified-title = E-Mail-Adresse bestätigt
verified-text = Vielen Dank: Ihre E-Mail-Adresse wurde bestätigt.

## Registrierung

join-email = E-Mail
join-intro = Geben Sie Ihre E-Mail-Adresse ein. Wir senden Ihnen einen Link, um sie zu bestätigen und sich zu registrieren.
check-email-title = Bitte prüfen Sie Ihr Postfach
signup-sent = Bitte prüfen Sie Ihr Postfach: Wir haben eine Nachricht mit dem nächsten Schritt an diese Adresse gesendet.
signup-sent-link = Der Link darin funktioniert einmal und 24 Stunden lang. Sehen Sie bitte auch im Spam-Ordner nach, falls die Nachricht nicht ankommt.
email-validation-title = E-Mail-Bestätigung
email-verified = Vielen Dank: { $email } ist bestätigt.
email-verified-next = Wählen Sie als Nächstes Ihr Passwort und nennen Sie uns Ihren Namen.
not-eligible = Wir konnten diese Adresse keinem Kunden mit aktivem Wartungsvertrag zuordnen. Bitte wenden Sie sich an Ihre zuständige Vertretung.
signup-title = Registrieren
signup-create = Konto anlegen
signup-intro = Legen Sie Ihr Konto für { $email } an.
account-created-title = Konto angelegt
account-created-text = Ihr Konto wurde angelegt. Melden Sie sich an, um Ihren Standort auszuwählen.
account-review-title = Vielen Dank
account-review-text = Ihr Konto wurde angelegt. Unsere Mitarbeiter prüfen Ihre Registrierung und benachrichtigen Sie per E-Mail, sobald Sie sich anmelden können.
choose-site-title = Standort auswählen
choose-site-important = Wichtig:
choose-site-warning = Wenn Ihr Unternehmen nicht in dieser Liste steht, wenden Sie sich bitte an Ihre zuständige Vertretung. Wählen Sie keinen Firmennamen, den Sie nicht kennen, denn das verzögert die Registrierung. Wenn Sie das falsche Unternehmen gewählt haben, wenden Sie sich an Ihre zuständige Vertretung, bevor Sie fortfahren.
choose-site-none = Für Ihre Adresse ist derzeit kein Standort verfügbar. Bitte wenden Sie sich an Ihre zuständige Vertretung.
site-chosen-1 = Vielen Dank für Ihre Registrierung im Kundenportal.
site-chosen-2 = Wenn Sie die erste Person Ihres Unternehmens sind, die sich registriert, bitten Sie Ihre zuständige Vertretung, Ihr Konto freizuschalten. Sie werden dann der Standort-Administrator Ihres Unternehmens.
site-chosen-3 = Wenn Ihr Unternehmen bereits einen Standort-Administrator hat, bitten Sie diese Person, Ihr Konto freizuschalten. Sie hat eine E-Mail erhalten.
site-chosen-4 = Wir benachrichtigen Sie per E-Mail, sobald Ihr Konto freigeschaltet ist.

## Passwörter und Einladungen

forgot-title = Passwort vergessen?
forgot-intro = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Wir senden Ihnen einen Link, um ein neues Passwort zu wählen.
reset-sent = Wenn zu dieser Adresse ein Konto gehört, haben wir einen Link zum Wählen eines neuen Passworts gesendet. Der Link ist eine Stunde lang gültig.
reset-title = Neues Passwort wählen
invitation-title = Passwort festlegen
invitation-submit = Passwort festlegen und weiter
invitation-intro = Wählen Sie das Passwort für { $email }.
change-password-title = Passwort ändern
change-password-temporary = Sie haben sich mit einem vorläufigen Passwort angemeldet. Wählen Sie Ihr eigenes Passwort, um fortzufahren.
invalid-link-title = Link ungültig
invalid-link-heading = Dieser Link kann nicht verwendet werden

## Übersicht

dashboard-title = Übersicht
dashboard-welcome = Willkommen, { $name }.
dashboard-search-all = Alle Anfragen durchsuchen
dashboard-search-mine = Ihre Anfragen durchsuchen
search-placeholder = Suchbegriffe oder eine Anfragenummer wie REQ-1042
search-placeholder-staff = Suchbegriffe, tag:vertrag oder eine Anfragenummer wie REQ-1042
dashboard-open = Offene Anfragen
dashboard-queue-empty = Die Warteschlange hat keine offenen Anfragen.
dashboard-none-open = Sie haben keine offenen Anfragen.
dashboard-all-open = Alle offenen Anfragen
dashboard-to-queue = Zur Warteschlange
dashboard-all-mine = Alle meine Anfragen
dashboard-quick-links = Schnellzugriffe
dashboard-no-links = Noch keine Schnellzugriffe.
dashboard-add-links = Welche hinzufügen.

## Anfragelisten

col-request-id = Anfragenummer
col-subject = Betreff
col-status = Status
col-site = Standort
col-requester = Angefragt von
col-assignee = Zuständig
col-updated = Zuletzt geändert
col-actions = Aktionen
col-name = Name
col-email = E-Mail
col-state = Zustand
col-signed-up = Registriert
col-signed-in = Angemeldet
col-last-active = Zuletzt aktiv
col-device = Gerät
col-address = Adresse
col-kind = Art
requests-none = Keine passenden Anfragen.
statuses-all = Alle Status
statuses-open = Alle offenen
statuses-closed = Alle geschlossenen
sort-newest = Zuletzt geändert, neueste zuerst
sort-oldest = Zuletzt geändert, älteste zuerst
sort-priority = Priorität, dringendste zuerst
unassigned = Nicht zugewiesen
col-priority = Priorität
priority-any = Jede Priorität
priority-low = Niedrig
priority-normal = Normal
priority-high = Hoch
priority-urgent = Dringend
col-tags = Schlagwörter
col-tag = Schlagwort
tags-none = Keine
tags-hint = Wörter in Kleinbuchstaben (Buchstaben, Ziffern, - und _), durch Leerzeichen getrennt; höchstens 20.
status-open = Offen
status-in-progress = In Bearbeitung
status-on-hold = Zurückgestellt
status-waiting-for-customer = Wartet auf Ihre Antwort
status-closed = Geschlossen
status-unknown = { $key } (unbekannter Status)

## Eine Anfrage

request-assigned-to = Zuständig
shared-title = Geteilt mit
shared-none = Nur Sie und die Administratoren Ihres Standorts sehen diese Anfrage.
shared-none-staff = Nur die anfragende Person und die Administratoren ihres Standorts sehen diese Anfrage.
shared-leave = Dieser Anfrage nicht mehr folgen
shared-remove = Nicht mehr mit { $name } teilen
shared-add-label = Mit einer Kollegin oder einem Kollegen von { $site } teilen (CC)
shared-add = Teilen
move-close = Anfrage schließen
move-reopen = Anfrage wieder öffnen
move-mark-as = Als „{ $status }“ markieren
rating-title = Wie zufrieden waren Sie?
rating-given-good = Sie haben diese Anfrage mit gut bewertet. Sie können Ihre Bewertung ändern.
rating-given-bad = Sie haben diese Anfrage mit schlecht bewertet. Sie können Ihre Bewertung ändern.
rating-legend = Ihre Bewertung
rating-good = Gut, ich bin zufrieden
rating-bad = Schlecht, ich bin nicht zufrieden
rating-comment = Kommentar (optional)
rating-send = Bewertung senden
conversation-title = Verlauf
conversation-earlier = Frühere Nachrichten
conversation-newest = Neueste Nachrichten
support-team = (Supportteam)
reply-title = Antworten
attach = Anhängen
attach-files = Dateien anhängen
files-limit = Bis zu { $count } Dateien mit jeweils höchstens { $size }.
markdown-hint = Markdown funktioniert: **fett**, _kursiv_, Listen, `Code`, Links.
timeline-title = Statusverlauf
timeline-when = Wann
timeline-by = Von
by-raised = { $name } (hat die Anfrage gestellt)
by-mapped = { $name } (nach einer Änderung des Ablaufs zugeordnet)
by-workflow = Ablauf, nach { $event }
moves-unavailable = Der Status kann gerade nicht geändert werden: Die Ablaufregel hat nicht geantwortet. Alles andere funktioniert wie gewohnt; versuchen Sie es später noch einmal.
new-request-hint = Nennen Sie konkrete Beispiele (Daten, Nummern oder Bildschirmfotos): So kann unser Team schneller und genauer antworten.
notice-request-created = Ihre Anfrage wurde gesendet. Wir haben Ihnen eine Bestätigung per E-Mail geschickt.
notice-request-sent = Ihre Nachricht wurde gesendet.
notice-request-noted = Interne Notiz hinzugefügt. Kunden sehen sie nie.
notice-request-status = Status geändert.
notice-request-assigned = Zuständigkeit gespeichert.
notice-request-updated = Änderungen gespeichert.
notice-request-rated = Vielen Dank für Ihre Bewertung.
notice-request-shared = Geteilt. Sie haben einen Link zur Anfrage per E-Mail erhalten.
notice-request-unshared = Nicht mehr mit ihnen geteilt.
notice-request-sent-updated = Ihre Antwort wurde gesendet und die Anfrage aktualisiert.
notice-request-noted-updated = Interne Notiz hinzugefügt und die Anfrage aktualisiert. Kunden sehen die Notiz nie.

## Benachrichtigungen, Einstellungen, Sitzungen

notifications-title = E-Mail-Benachrichtigungen
notifications-intro = Wählen Sie, welche E-Mails zu Ihren Anfragen Sie erhalten. Anmeldecodes, Passwort-Links und Einladungen werden immer gesendet.
notifications-legend = Mir eine E-Mail senden bei
notifications-created = einer Bestätigung, wenn ich eine Anfrage stelle
notifications-replies = Antworten des Supportteams
notifications-status = Statusänderungen meiner Anfragen
notifications-saved = Ihre Auswahl ist gespeichert.
preferences-title = Einstellungen
preferences-language = Sprache
preferences-time-zone = Zeitzone
preferences-follow-browser = Wie mein Browser
preferences-time-zone-browser = Zeiten werden in der Zeitzone Ihres Browsers angezeigt.
preferences-time-zone-now = Dort ist es jetzt { $now }.
preferences-saved = Ihre Einstellungen sind gespeichert.
sessions-title = Ihre Sitzungen
sessions-none = Keine Sitzungen.
session-label = Sitzung { $id }
session-persistent = Angemeldet bleiben
session-persistent-current = Angemeldet bleiben (diese)
session-browser = Browsersitzung
session-browser-current = Browsersitzung (diese)
sign-out = Abmelden
sessions-everywhere = Überall
sign-out-everywhere = Überall abmelden

## Standort-Administratoren: Freigaben und Einladungen

approvals-title = Neues Benutzerkonto freigeben
approvals-none = Niemand wartet auf die Freischaltung.
approve = Freigeben
reject = Ablehnen
invitations-none = Keine offenen Einladungen.
invitation-state = Eingeladen
resend = Erneut senden
invite-welcome = Willkommens-E-Mail
invite-link = Ein Anmeldelink
invite-temporary = Ein vorläufiges Passwort
invite-title = Jemanden einladen
invite-site-hint = Der Name des Standorts, wie auf der Seite „Standorte“.
invite = Einladen
invitation-sent = Einladung an { $email } gesendet.
invitation-resent = Einladung erneut gesendet; die frühere funktioniert nicht mehr.
role-customer = Kunde
role-site_admin = Standort-Administrator
role-agent = Supportmitarbeiter
role-operator = Betreiber
state-active = aktiv
state-invited = eingeladen
state-awaiting_activation = wartet auf Freischaltung
state-choosing_site = wählt Standort
state-disabled = deaktiviert
state-rejected = abgelehnt

# Anfragetypen und eigene Felder
col-type = Typ
type-any = Jeder Typ
type-none = Kein Typ
field-none = keine Angabe
field-yes = Ja
field-choose = Bitte wählen…
field-required-mark = Pflichtfeld
