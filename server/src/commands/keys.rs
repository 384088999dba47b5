//! `scorewatch keys`: create, list and revoke API keys.

use anyhow::Result;

use scorewatch_core::access;

use crate::config::KeysCommand;

/// Runs one `keys` subcommand, printing its result.
pub async fn run(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Create { db, role, name } => {
            let database = db.open().await?;
            let (id, key) = access::create(&database.pool, &name, role).await?;
            println!("created key #{id} ({role}, {name}); it is shown only now:");
            println!("{key}");
        }
        KeysCommand::List { db } => {
            let database = db.open().await?;
            let list = access::list(&database.pool).await?;
            if list.is_empty() {
                println!("no keys: create one with `scorewatch keys create --role admin`");
            }
            println!(
                "{:>4}  {:<12}  {:<8}  {:<20}  {:<20}  {:<20}  name",
                "id", "prefix", "role", "created", "last used", "revoked"
            );
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".into())
            };
            for k in list {
                println!(
                    "{:>4}  {:<12}  {:<8}  {:<20}  {:<20}  {:<20}  {}",
                    k.id,
                    k.prefix,
                    k.role.as_str(),
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.revoked_at),
                    k.name
                );
            }
        }
        KeysCommand::Revoke { db, key } => {
            let database = db.open().await?;
            match access::revoke(&database.pool, &key).await? {
                access::Revoked::One { id, prefix } => println!(
                    "revoked key {id} ({prefix}); running servers refuse it within 10 seconds"
                ),
                access::Revoked::NoMatch => anyhow::bail!(
                    "no active key has id or prefix {key:?} (see `scorewatch keys list`)"
                ),
                access::Revoked::Ambiguous(prefixes) => anyhow::bail!(
                    "{key:?} is ambiguous: it starts {} active keys ({}); give more of the \
                     prefix or the key's id (see `scorewatch keys list`)",
                    prefixes.len(),
                    prefixes.join(", ")
                ),
            }
        }
    }
    Ok(())
}
