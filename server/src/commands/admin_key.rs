//! The admin key of a new installation: the first `serve` on a database without an active
//! key creates one, prints it and keeps it in `<data-dir>/admin-key` (readable by the owner
//! only), so the local demo can be used at once.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use scorewatch_core::access::{self, Role};

/// What [`ensure`] found or did.
pub enum AdminKey {
    /// A key created now: `key` in clear (shown once) and the file it was written to.
    Created { key: String, file: PathBuf },
    /// Active keys exist already; `file` is the admin key file if one was kept.
    Existing { file: Option<PathBuf> },
}

/// Creates the admin key and writes it to `file` (mode 0600, its directory created) when the
/// database has no active key; otherwise reports whether `file` exists.
pub async fn ensure(pool: &sqlx::PgPool, file: &Path) -> Result<AdminKey> {
    if access::count_active(pool).await? > 0 {
        return Ok(AdminKey::Existing {
            file: file.exists().then(|| file.to_path_buf()),
        });
    }
    let (_, key) = access::create(pool, "admin (created at first start)", Role::Admin).await?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(file)
            .with_context(|| format!("writing {}", file.display()))?;
        writeln!(f, "{key}")?;
    }
    Ok(AdminKey::Created {
        key,
        file: file.to_path_buf(),
    })
}
