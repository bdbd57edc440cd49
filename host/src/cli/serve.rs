//! `helpdesk serve`: the server with its workers (plugin watcher, decision log, shadows, mail in
//! and out, webhooks, timers, housekeeping), and how it stops.

use super::*;

pub(super) async fn serve(
    settings: Settings,
    listen: SocketAddr,
    poll: Duration,
) -> anyhow::Result<()> {
    let (db, plugins) = open(&settings).await?;
    plugins.ensure_defaults(&db).await?;
    plugins.refresh(&db).await?;
    let from: lettre::message::Mailbox = settings.mail_from.parse().with_context(|| {
        format!(
            "HELPDESK_MAIL_FROM `{}` is not an email address",
            settings.mail_from
        )
    })?;
    let transport = Transport::from_settings(settings.smtp_url.as_deref(), settings.outbox_dir())
        .map_err(anyhow::Error::msg)?;
    let mut imap = settings
        .imap_url
        .as_deref()
        .map(ImapSettings::from_url)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let (Some(imap), Some(ca)) = (imap.as_mut(), &settings.imap_ca) {
        imap.trust_pem(ca).map_err(anyhow::Error::msg)?;
    }
    let inbox: Option<lettre::message::Mailbox> = match (&imap, &settings.mail_inbox) {
        (None, _) => None,
        (Some(_), Some(a)) => Some(
            a.parse()
                .with_context(|| format!("HELPDESK_MAIL_INBOX `{a}` is not an email address"))?,
        ),
        (Some(_), None) => Some(from.clone()),
    };

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(plugins.clone().watch(db.clone(), poll, {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }));

    let (log, writer) = crate::decisions::DecisionLog::start(db.clone(), plugins.metrics(), {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    });
    plugins.log_decisions(log);
    let writer = tokio::spawn(writer);
    let shadows = tokio::spawn(plugins.ask_shadows(db.clone(), {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }));
    let upkeep = tokio::spawn(plugins.metrics().clone().keep_up({
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }));
    let state = state(&settings, &db, plugins)?;
    let files = state.requests.files.clone();
    files
        .store
        .check()
        .await
        .map_err(|e| anyhow::anyhow!("attachment storage does not answer: {e}"))?;
    // The staging folder is this server's own: whatever is in it before it serves was left by
    // a crash.
    let removed = files
        .clean_staging(std::time::SystemTime::now())
        .unwrap_or(0);
    if removed > 0 {
        tracing::info!(
            removed,
            "removed uploads a crash left in the staging folder"
        );
    }
    let rendering = tokio::spawn({
        let db = db.clone();
        async move {
            match crate::requests::render_stored(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    messages = n,
                    "rendered stored messages by the current rules"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "rendering stored messages failed; they are rendered when shown")
                }
            }
        }
    });
    let housekeeping = tokio::spawn(housekeeping(db.clone(), files, settings.keeping(), {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }));
    let timers = tokio::spawn(crate::requests::sweep_timers(
        state.requests.clone(),
        Duration::from_secs(settings.timer_sweep_seconds),
        {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        },
    ));
    let mailer = tokio::spawn(
        Worker {
            db: db.clone(),
            transport,
            from: from.clone(),
            reply_to: inbox.clone(),
            wake: state.accounts.mailer.waker(),
            retry: Retry::default(),
        }
        .run({
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        }),
    );
    let webhooks = tokio::spawn(
        crate::webhooks::Worker {
            db: db.clone(),
            webhooks: state.console.webhooks.clone(),
            clock: state.requests.clock.clone(),
            mailer: state.requests.mailer.clone(),
            retry: crate::webhooks::Retry::default(),
        }
        .run({
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        }),
    );
    let reader = imap.map(|imap| {
        let desk = MailDesk {
            requests: state.requests.clone(),
            domain: from.email.domain().to_owned(),
            own_address: from.email.to_string(),
            per_hour: settings.mail_per_hour,
            trust_from: settings.mail_trust_from.clone(),
            authserv_id: settings.mail_authserv_id.clone(),
        };
        tokio::spawn(Fetcher::new(imap, Arc::new(desk)).run({
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        }))
    });
    let draining = state.draining.clone();
    let app = crate::app(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        public_url = %settings.public_url,
        mail = settings.smtp_url.as_deref().map(redact).unwrap_or_else(|| settings.outbox_dir().display().to_string()),
        database = %redact(&settings.database_url()),
        "help desk serving"
    );
    let drain = Duration::from_secs(settings.drain_seconds);
    let stopping = async move {
        shutdown_signal().await;
        draining.store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            seconds = drain.as_secs(),
            "draining: /readyz answers 503 while requests are still served"
        );
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            () = shutdown_signal() => {}
        }
        tracing::info!("no longer accepting: finishing requests in flight");
    };
    crate::http::server::serve(listener, app, Timeouts::default(), stopping).await?;
    tracing::info!("requests finished: stopping the workers");
    let _ = stop_tx.send(true);
    let _ = watcher.await;
    let _ = mailer.await;
    let _ = webhooks.await;
    if let Some(reader) = reader {
        let _ = reader.await;
    }
    let _ = housekeeping.await;
    let _ = timers.await;
    rendering.abort();
    let _ = upkeep.await;
    let _ = shadows.await;
    let _ = writer.await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// On every replica (each step is safe to run concurrently): every ten minutes, staged uploads
/// nobody has written to for ten minutes (a crash's leftovers); every hour, attachment files no
/// request references (uploads whose transaction never committed), rate-limit counters and
/// login failures older than a day, plugin decisions past their retention, originals of
/// received mail and audit entries past theirs.
async fn housekeeping(
    db: Db,
    files: crate::requests::files::Files,
    keeping: crate::config::Keeping,
    stop: impl Future<Output = ()>,
) {
    const TICK: Duration = Duration::from_secs(600);
    tokio::pin!(stop);
    for round in 0u64.. {
        if round > 0 {
            match files.clean_staging(std::time::SystemTime::now() - TICK) {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    removed = n,
                    "removed abandoned uploads from the staging folder"
                ),
                Err(e) => tracing::warn!(error = %e, "cleaning the staging folder failed"),
            }
        }
        if round % 6 == 0 {
            hourly(&db, &files, keeping).await;
        } else if files.take_sweep_soon() {
            sweep(&db, &files).await;
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

async fn hourly(db: &Db, files: &crate::requests::files::Files, keeping: crate::config::Keeping) {
    let now = db::now_ms();
    match db::inbound::forget_originals(db.pool(), now - keeping.mail_originals_ms).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            messages = n,
            "forgot originals of received mail past their time"
        ),
        Err(e) => tracing::warn!(error = %e, "forgetting originals of received mail failed"),
    }
    sweep(db, files).await;
    let pruned = async {
        let mut conn = db.pool().acquire().await?;
        db::limits::prune(&mut conn, now - 24 * 3600 * 1000, now).await
    };
    if let Err(e) = pruned.await {
        tracing::warn!(error = %e, "pruning rate limits failed");
    }
    match crate::decisions::prune(db, keeping.decisions).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "pruned the decision log"),
        Err(e) => tracing::warn!(error = %e, "pruning the decision log failed"),
    }
    match db::audit::prune(db.pool(), now - keeping.audit_ms).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "pruned the audit log"),
        Err(e) => tracing::warn!(error = %e, "pruning the audit log failed"),
    }
}

/// Removes attachment files no request references (uploads whose change never committed).
async fn sweep(db: &Db, files: &crate::requests::files::Files) {
    match files.sweep(db, crate::requests::files::ORPHAN_GRACE).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            removed = n,
            "removed attachment files no request references"
        ),
        Err(e) => tracing::warn!(error = %e, "attachment sweep failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
