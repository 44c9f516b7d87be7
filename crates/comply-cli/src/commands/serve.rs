//! `comply serve`: zero configuration on SQLite, or PostgreSQL shared by several servers.

use crate::cli::{LogFormat, ServeArgs};
use crate::config::{self, Config};
use crate::error::{CliError, Result};
use comply_server::AppState;
use comply_store::Store;
use tracing_subscriber::EnvFilter;

/// Colour on a terminal unless `NO_COLOR` is set to anything non-empty (no-color.org);
/// clap's help already honours it.
fn colour_wanted(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("COMPLY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour_wanted(std::io::stderr().is_terminal()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn database_url(args: &ServeArgs) -> Result<String> {
    if let Some(url) = &args.database_url {
        return Ok(url.clone());
    }
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", args.data_dir.display())))?;
    Ok(format!(
        "sqlite://{}?mode=rwc",
        args.data_dir.join("comply.db").display()
    ))
}

/// Shows a database URL without its password (text that is no URL is shown as given:
/// it carries no parsed password either).
fn redact(database: &str) -> String {
    match url::Url::parse(database) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only URLs that cannot carry a password refuse this, and this one has one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => database.to_owned(),
    }
}

pub fn run(args: ServeArgs) -> Result<()> {
    crate::memory::limit_c_allocator_arenas();
    init_logging(args.log_format);
    if let Err(e) = crate::memory::return_freed_memory() {
        tracing::warn!("memory will not be returned to the system after load: {e}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<()> {
    let url = database_url(&args)?;
    let store = Store::connect(&url)
        .await
        .map_err(|e| CliError::failed(format!("cannot open the database {}: {e}", redact(&url))))?;
    tracing::info!(database = %redact(&url), "database ready");
    if args.reset_admin_token {
        return reset_admin_token(&store).await;
    }
    let builtins = comply_server::load_builtins(&store)
        .await
        .map_err(CliError::failed)?;
    tracing::info!(resources = builtins, "built-in content loaded");
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|e| CliError::failed(format!("cannot listen on {}: {e}", args.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::failed(e.to_string()))?;
    let first = comply_server::bootstrap(&store)
        .await
        .map_err(|e| CliError::failed(format!("first-start setup failed: {e}")))?;
    tracing::info!(%addr, "comply is listening");
    // After the start-up logs, framed, so the one-time token is not lost among them.
    if let Some(issued) = first {
        announce_first_start(&issued.secret, &format!("http://{addr}"));
    }
    let state = AppState::new(store);
    // One signal stops both the connection loop and the webhook worker.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let worker = (!args.no_webhooks).then(|| {
        let config = comply_server::webhooks::WebhookConfig {
            watch_every: std::time::Duration::from_secs(args.webhook_watch_seconds),
            timeout: std::time::Duration::from_secs(args.webhook_timeout_seconds),
            // A lease outlives the longest send, so a slow receiver is not sent twice.
            lease: std::time::Duration::from_secs(args.webhook_timeout_seconds * 3 + 30),
            ..Default::default()
        };
        tracing::info!(owner = %config.owner, "webhook worker started");
        tokio::spawn(comply_server::webhooks::run_worker(
            state.clone(),
            config,
            until_stopped(stopped.clone()),
        ))
    });
    let served = comply_server::serve(listener, state, until_stopped(stopped))
        .await
        .map_err(|e| CliError::failed(format!("server error: {e}")));
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    served
}

/// Prints the new token on stdout (and nothing else there), so it can be captured.
async fn reset_admin_token(store: &Store) -> Result<()> {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let (org, issued) = comply_server::reset_admin_token(store, &format!("break-glass:{who}"))
        .await
        .map_err(|e| {
            CliError::failed(format!("resetting the instance administrator failed: {e}"))
        })?;
    eprintln!(
        "Revoked every instance-administrator token; the new one (owner of '{org}') is shown only now:"
    );
    println!("{}", issued.secret);
    Ok(())
}

fn announce_first_start(token: &str, server: &str) {
    let written = config::write_if_absent(&Config {
        server: Some(server.to_owned()),
        token: Some(token.to_owned()),
        org: None,
    });
    let saved = match (written, config::path()) {
        (Ok(Some(path)), _) => format!("Saved to {} for the comply CLI.", path.display()),
        (Ok(None), Some(path)) => {
            format!("{} already exists and was left unchanged.", path.display())
        }
        (Ok(None), None) => {
            "No config directory is known (set XDG_CONFIG_HOME); pass --token.".into()
        }
        (Err(e), _) => format!("Could not write the CLI config file: {e}"),
    };
    let lines = [
        "First start: created organization 'default' and its owner token.".to_owned(),
        "This token is shown only now; it can also create organizations:".to_owned(),
        String::new(),
        format!("    {token}"),
        String::new(),
        saved,
        format!("Dashboard: {server}/"),
    ];
    print!("{}", framed(&lines));
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

/// `lines` in a box of `─` and `│`, padded to the longest.
fn framed(lines: &[String]) -> String {
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = format!("\n┌{}┐\n", "─".repeat(width + 2));
    for l in lines {
        out.push_str(&format!(
            "│ {l}{} │\n",
            " ".repeat(width - l.chars().count())
        ));
    }
    out.push_str(&format!("└{}┘\n", "─".repeat(width + 2)));
    out
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_urls_lose_their_password_only() {
        assert_eq!(
            redact("postgres://comply:s3cr%40t@db.internal:5432/comply?sslmode=require"),
            "postgres://comply:***@db.internal:5432/comply?sslmode=require"
        );
        assert_eq!(
            redact("postgres://comply@db/comply"),
            "postgres://comply@db/comply"
        );
        assert_eq!(
            redact("sqlite:///var/lib/comply/comply.db?mode=rwc"),
            "sqlite:///var/lib/comply/comply.db?mode=rwc"
        );
        assert_eq!(redact("not a url"), "not a url");
    }
}
