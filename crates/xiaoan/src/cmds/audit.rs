//! `xiaoan audit verify|list --data-dir DIR`: reads the audit trail of a data directory's
//! database without writing to it (also while a server runs on it). `verify` walks the hash
//! chain from the first entry and names the first broken link (exit status 1; 2 when the log
//! cannot be read at all); `list` prints entries, all or one incident's.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use xiaoan_core::audit::AuditRecord;
use xiaoan_store::AuditFilter;
use xiaoan_store::sqlite::AuditFile;

/// Flags of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// What to do with the audit trail.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit status 0 when intact, 1 with the first broken link when it is
    /// broken, 2 when the log cannot be read.
    Verify {
        /// Data directory holding xiaoan.db.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// An entry's number and hash noted earlier (`SEQ:HASH`, from a previous verify): the
        /// entry must still be there with that hash. Catches a log cut at its end or rewritten
        /// from some entry on, which the chain alone cannot.
        #[arg(long, value_name = "SEQ:HASH")]
        expect: Option<String>,
    },
    /// Print entries, oldest first.
    List {
        /// Data directory holding xiaoan.db.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Only this incident's entries.
        #[arg(long, value_name = "ID")]
        incident: Option<i64>,
        /// Only entries numbered above this.
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after: i64,
        /// At most this many.
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
}

async fn open(dir: &std::path::Path) -> anyhow::Result<AuditFile> {
    AuditFile::open_in(dir)
        .await
        .with_context(|| format!("opening the database in {}", dir.display()))
}

/// Runs `audit`: prints its output; the exit status is 0, or 1 when `verify` found a broken
/// chain.
pub async fn run(args: AuditArgs) -> anyhow::Result<i32> {
    let (code, text) = output(args).await?;
    print!("{text}");
    Ok(code)
}

/// What `audit` prints, and its exit status.
pub async fn output(args: AuditArgs) -> anyhow::Result<(i32, String)> {
    match args.command {
        AuditCommand::Verify { data_dir, expect } => {
            let expect = expect.as_deref().map(parse_expect).transpose()?;
            let file = open(&data_dir).await?;
            let verdict = file.verify().await.context("reading the audit log")?;
            let anchor = match (&verdict, expect) {
                (Ok(_), Some((seq, hash))) => {
                    let found = file
                        .entries(&AuditFilter {
                            incident_id: None,
                            after_seq: seq - 1,
                            limit: Some(1),
                        })
                        .await
                        .context("reading the audit log")?;
                    match found.first().filter(|e| e.seq == seq) {
                        None => Some(format!("entry {seq} missing (the log ends before it)")),
                        Some(e) if !e.hash.eq_ignore_ascii_case(&hash) => Some(format!(
                            "entry {seq}'s hash is {}, not the expected {hash} \
                             (the log was rewritten from there or before)",
                            e.hash
                        )),
                        Some(_) => None,
                    }
                }
                _ => None,
            };
            file.close().await;
            match (verdict, anchor) {
                (Err(broken), _) => Ok((1, format!("audit log BROKEN: {broken}\n"))),
                (Ok(_), Some(mismatch)) => Ok((1, format!("audit log BROKEN: {mismatch}\n"))),
                (Ok(summary), None) => Ok((
                    0,
                    format!(
                        "audit log intact: {} entries, last hash {}\n",
                        summary.entries, summary.last_hash
                    ),
                )),
            }
        }
        AuditCommand::List {
            data_dir,
            incident,
            after,
            limit,
        } => {
            let file = open(&data_dir).await?;
            let entries = file
                .entries(&AuditFilter {
                    incident_id: incident,
                    after_seq: after,
                    limit,
                })
                .await
                .context("reading the audit log")?;
            file.close().await;
            let mut text = String::new();
            for e in &entries {
                text.push_str(&line(e));
                text.push('\n');
            }
            Ok((0, text))
        }
    }
}

/// `SEQ:HASH` → (seq, hash).
fn parse_expect(s: &str) -> anyhow::Result<(i64, String)> {
    let (seq, hash) = s
        .split_once(':')
        .context("--expect takes SEQ:HASH, e.g. 57:3f2a…")?;
    let seq: i64 = seq
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .context("--expect: SEQ must be an entry number (1 or more)")?;
    let hash = hash.trim();
    anyhow::ensure!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "--expect: HASH must be 64 hex digits"
    );
    Ok((seq, hash.to_ascii_lowercase()))
}

/// `57 2026-11-29T10:01:02.000Z incident.claim incident:12 by 张警官 (police_operator, user 3) {…}`.
fn line(e: &AuditRecord) -> String {
    let who = match (&e.actor_role, e.actor_user_id) {
        (Some(role), Some(id)) => format!("{} ({role}, user {id})", e.actor_name),
        (None, Some(id)) => format!("{} (user {id})", e.actor_name),
        _ => e.actor_name.clone(),
    };
    let object = match &e.object_id {
        Some(id) => format!("{}:{id}", e.object_kind),
        None => e.object_kind.clone(),
    };
    format!(
        "{} {} {} {} by {} {}",
        e.seq, e.at, e.action, object, who, e.detail
    )
}
