//! Webhook endpoints, as operators manage them: register (the server makes the signing secret
//! and shows it this once), turn off and on, remove, read the delivery log and send a delivery
//! again. Every change is in the audit log. See [`crate::webhooks`] for what is sent.

use super::{Console, ConsoleError, Result, require_operator};
use crate::auth::{Client, Me};
use crate::db::DbError;
use crate::db::webhooks::{self as sql, DeliveryRow, EndpointRow, NewEndpoint};
use crate::webhooks::{EVENTS, new_secret, send};
use serde::{Deserialize, Serialize};

/// At most this many endpoints: each event writes a delivery for each.
pub const MAX_ENDPOINTS: usize = 20;
/// The delivery log shows this many, newest first.
pub const LOG_ROWS: i64 = 100;
pub const URL_MAX: usize = 2000;
pub const DESCRIPTION_MAX: usize = 200;

/// An endpoint to register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    pub url: String,
    /// Event names from [`EVENTS`], or `["*"]` for all.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// An endpoint as operators see it.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    #[serde(flatten)]
    pub row: EndpointRow,
    pub events: Vec<String>,
}

impl From<EndpointRow> for Endpoint {
    fn from(row: EndpointRow) -> Endpoint {
        Endpoint {
            events: row.events.split_whitespace().map(str::to_owned).collect(),
            row,
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConsoleError {
    ConsoleError::Invalid {
        field,
        message: message.into(),
    }
}

/// A URL of the documented form that may not be used (422).
fn refused(message: String) -> ConsoleError {
    ConsoleError::Refused {
        field: "url",
        message,
    }
}

impl Console {
    fn now(&self) -> i64 {
        self.requests.clock.now_ms()
    }

    /// Every endpoint, oldest first.
    pub async fn webhooks(&self, me: &Me) -> Result<Vec<Endpoint>> {
        require_operator(me)?;
        Ok(sql::endpoints(self.db.pool())
            .await?
            .into_iter()
            .map(Endpoint::from)
            .collect())
    }

    pub async fn webhook(&self, me: &Me, id: i64) -> Result<Endpoint> {
        require_operator(me)?;
        sql::endpoint(self.db.pool(), id)
            .await?
            .map(Endpoint::from)
            .ok_or(ConsoleError::NotFound("No such webhook endpoint."))
    }

    /// Registers an endpoint; returns it and its signing secret, which is not shown again.
    pub async fn add_webhook(
        &self,
        me: &Me,
        client: &Client,
        input: &EndpointInput,
    ) -> Result<(Endpoint, String)> {
        require_operator(me)?;
        let url = input.url.as_str();
        if url.chars().count() > URL_MAX || !documented_url(url) {
            return Err(invalid(
                "url",
                format!(
                    "`url`: an address starting with https:// or http://, without spaces, at most {URL_MAX} characters."
                ),
            ));
        }
        let parsed = send::check_url(url).map_err(|e| refused(format!("`url`: {e}.")))?;
        // An address written in the URL is checked now; a name, at every delivery.
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal.filter(|ip| !send::reachable(*ip, &self.webhooks.allow)) {
            return Err(refused(format!(
                "`url`: {ip} is a loopback, private, link-local or reserved address, which webhooks may not reach."
            )));
        }
        let events = events(&input.events)?;
        let description = input.description.trim();
        if description.chars().count() > DESCRIPTION_MAX || description.contains('\0') {
            return Err(invalid(
                "description",
                format!("`description`: at most {DESCRIPTION_MAX} characters, without NUL."),
            ));
        }
        if sql::endpoints(self.db.pool()).await?.len() >= MAX_ENDPOINTS {
            return Err(ConsoleError::Conflict(format!(
                "At most {MAX_ENDPOINTS} webhook endpoints; remove one first."
            )));
        }
        let secret = new_secret();
        let id = sql::create(
            self.db.pool(),
            &NewEndpoint {
                url: parsed.as_str(),
                events: &events,
                description,
                secret_sealed: &self.webhooks.sealer.seal(&secret),
                created_by: Some(me.id),
                created_at: self.now(),
            },
        )
        .await?;
        self.accounts
            .audit_operator(
                me,
                client,
                "webhook_added",
                &format!("#{id} {} ({})", parsed, events.trim()),
            )
            .await?;
        Ok((self.webhook(me, id).await?, secret))
    }

    /// Turns endpoint `id` on (it is no longer failing) or off (what waits for it is given up).
    pub async fn enable_webhook(
        &self,
        me: &Me,
        client: &Client,
        id: i64,
        enabled: bool,
    ) -> Result<Endpoint> {
        require_operator(me)?;
        let reason = format!("turned off by {}", me.email);
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        if !sql::set_state(
            &mut tx,
            id,
            (!enabled).then_some(reason.as_str()),
            self.now(),
        )
        .await?
        {
            return Err(ConsoleError::NotFound("No such webhook endpoint."));
        }
        tx.commit().await.map_err(DbError::from)?;
        let event = if enabled {
            "webhook_enabled"
        } else {
            "webhook_disabled"
        };
        self.accounts
            .audit_operator(me, client, event, &format!("#{id}"))
            .await?;
        self.webhook(me, id).await
    }

    /// Removes endpoint `id` and its delivery log.
    pub async fn remove_webhook(&self, me: &Me, client: &Client, id: i64) -> Result<()> {
        require_operator(me)?;
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        let url = sql::endpoint(&mut *tx, id)
            .await?
            .ok_or(ConsoleError::NotFound("No such webhook endpoint."))?
            .url;
        sql::delete(&mut tx, id).await?;
        tx.commit().await.map_err(DbError::from)?;
        self.accounts
            .audit_operator(me, client, "webhook_removed", &format!("#{id} {url}"))
            .await?;
        Ok(())
    }

    /// The newest [`LOG_ROWS`] deliveries to endpoint `id`.
    pub async fn webhook_deliveries(&self, me: &Me, id: i64) -> Result<Vec<DeliveryRow>> {
        self.webhook(me, id).await?;
        Ok(sql::deliveries(self.db.pool(), id, LOG_ROWS).await?)
    }

    /// Sends delivery `delivery` of endpoint `id` again, as a new delivery with the same body;
    /// returns the new delivery's id.
    pub async fn resend_webhook(
        &self,
        me: &Me,
        client: &Client,
        id: i64,
        delivery: i64,
    ) -> Result<i64> {
        self.webhook(me, id).await?;
        let new = sql::resend(self.db.pool(), id, delivery, self.now())
            .await?
            .ok_or(ConsoleError::NotFound("No such delivery."))?;
        self.accounts
            .audit_operator(
                me,
                client,
                "webhook_resent",
                &format!("#{id}: delivery {delivery} as {new}"),
            )
            .await?;
        Ok(new)
    }
}

/// Whether `url` has the documented form (the API's schema says the same): `http://` or
/// `https://` and something after it, with no space or control character.
fn documented_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}')
    })
}

/// The stored form of an endpoint's events: known names between single spaces, or ` * `.
fn events(names: &[String]) -> Result<String> {
    if names.is_empty() {
        return Err(invalid(
            "events",
            "`events`: name at least one event, or `*` for all.",
        ));
    }
    if names.iter().any(|n| n == "*") {
        return Ok(" * ".into());
    }
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        let known = EVENTS.iter().find(|e| **e == n.as_str()).ok_or_else(|| {
            invalid(
                "events",
                format!(
                    "`events`: `{n}` is not an event; the events are {}, or `*`.",
                    EVENTS.join(", ")
                ),
            )
        })?;
        if !out.contains(known) {
            out.push(known);
        }
    }
    Ok(format!(" {} ", out.join(" ")))
}
