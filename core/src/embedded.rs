//! The embedded PostgreSQL cluster used when no `DATABASE_URL` is given.
//!
//! The cluster lives in a data directory of the project, listens on a free loopback port
//! with unix sockets off, and is stopped when the [`EmbeddedPostgres`] that started it is
//! dropped. A process that finds the cluster already running (another `scorewatch` command
//! started it) connects to it and leaves it running. PostgreSQL refuses to run as root, so
//! as root every server-side command runs as the `postgres` user, which must own the data
//! directory.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// The role and database the product uses inside the embedded cluster.
pub const SUPERUSER: &str = "scorewatch";
pub const DATABASE: &str = "scorewatch";
/// Appended to a new cluster's `postgresql.conf`. Drift reports read column blocks in
/// bulk (187 MB per 100,000 predictions): with PostgreSQL's default of 128 MB of shared
/// buffers they would come from the OS cache on every report.
const CLUSTER_SETTINGS: &str =
    "\n# Set by scorewatch when it created this cluster; change it here or with \
ALTER SYSTEM\n# (a restart applies it).\nshared_buffers = 512MB\n";

/// A running embedded cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    run_as: Option<String>,
    /// Whether this process started the cluster and so must stop it.
    owned: bool,
}

impl EmbeddedPostgres {
    /// Starts the cluster in `data_dir` (creating it with `initdb` the first time), or
    /// attaches to it if it is already running.
    pub fn start(data_dir: &Path) -> Result<Self> {
        Self::start_on(data_dir, None)
    }

    /// As [`start`](Self::start), on a given port (a free one when None): a restarted
    /// cluster on its old port lets open pools reconnect.
    pub fn start_on(data_dir: &Path, port: Option<u16>) -> Result<Self> {
        let bin_dir = find_bin_dir()?;
        let run_as = running_as_root().then(|| "postgres".to_string());
        fs::create_dir_all(data_dir.parent().unwrap_or(Path::new(".")))
            .with_context(|| format!("creating the parent of {}", data_dir.display()))?;
        let mut data_dir = std::path::absolute(data_dir)?;
        if let Some(user) = &run_as {
            data_dir = reachable_data_dir(data_dir, user)?;
        }
        let mut pg = Self {
            data_dir,
            bin_dir,
            port: 0,
            run_as,
            owned: false,
        };
        if !pg.data_dir.join("PG_VERSION").exists() {
            pg.initdb()?;
        }
        if let Some(port) = pg.running_port() {
            pg.port = port;
            tracing::info!(port, data_dir = %pg.data_dir.display(), "using the embedded PostgreSQL already running");
            return Ok(pg);
        }
        pg.port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        let log = pg.data_dir.join("postgresql.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' -c max_connections=200 -c fsync=on",
            pg.port
        );
        let out = pg.run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                path_str(&pg.data_dir)?,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
            ],
        )?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(15).collect();
            bail!(
                "PostgreSQL did not start in {}: {}\n{}\nlast lines of {}:\n{}",
                pg.data_dir.display(),
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim(),
                log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        pg.owned = true;
        tracing::info!(port = pg.port, data_dir = %pg.data_dir.display(), "embedded PostgreSQL started");
        Ok(pg)
    }

    /// Connection URL of a database in the cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the cluster if this process started it (also done on drop).
    pub fn stop(&mut self) {
        if !self.owned {
            return;
        }
        self.owned = false;
        let Ok(dir) = path_str(&self.data_dir) else {
            return;
        };
        match self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", dir]) {
            Ok(out) if out.status.success() => tracing::info!("embedded PostgreSQL stopped"),
            Ok(out) => tracing::warn!(
                stderr = %String::from_utf8_lossy(&out.stderr).trim(),
                "embedded PostgreSQL did not stop cleanly"
            ),
            Err(e) => tracing::warn!(error = %e, "could not stop the embedded PostgreSQL"),
        }
    }

    fn initdb(&self) -> Result<()> {
        fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        fs::set_permissions(&self.data_dir, fs::Permissions::from_mode(0o700))?;
        if let Some(user) = &self.run_as {
            let (uid, gid) = user_ids(user)?;
            chown(&self.data_dir, Some(uid), Some(gid)).with_context(|| {
                format!("giving {} to the {user} user", self.data_dir.display())
            })?;
        }
        tracing::info!(data_dir = %self.data_dir.display(), "creating the embedded PostgreSQL cluster");
        let out = self.run(
            "initdb",
            &[
                "-D",
                path_str(&self.data_dir)?,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        if !out.status.success() {
            let hint = if self.run_as.is_some() {
                "\nhint: running as root, the cluster runs as the postgres user, which must be able to reach this directory (every parent directory needs o+x)"
            } else {
                ""
            };
            bail!(
                "initdb failed for {}:\n{}{hint}",
                self.data_dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        // In the cluster's own configuration, where its owner can change it.
        let conf = self.data_dir.join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| f.write_all(CLUSTER_SETTINGS.as_bytes()))
            .with_context(|| format!("writing {}", conf.display()))?;
        Ok(())
    }

    /// The port of the cluster if a postmaster is running on this data directory.
    fn running_port(&self) -> Option<u16> {
        let out = self
            .run("pg_ctl", &["status", "-D", path_str(&self.data_dir).ok()?])
            .ok()?;
        if !out.status.success() {
            return None;
        }
        // postmaster.pid: line 4 is the port.
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output> {
        let exe = self.bin_dir.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.args(args)
            .current_dir("/")
            .output()
            .with_context(|| format!("running {}", exe.display()))
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// As root the cluster runs as `user`, who may not be able to enter the project directory
/// (a checkout under a private home, say). Then the cluster goes under
/// `/var/lib/scorewatch/`, named after the requested path so that it is found again.
fn reachable_data_dir(requested: PathBuf, user: &str) -> Result<PathBuf> {
    let parent = requested.parent().unwrap_or(Path::new("/"));
    let reachable = Command::new("runuser")
        .args(["-u", user, "--", "test", "-x"])
        .arg(parent)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if reachable {
        return Ok(requested);
    }
    let name: String = requested
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let fallback = Path::new("/var/lib/scorewatch").join(name.trim_matches('_'));
    fs::create_dir_all("/var/lib/scorewatch")?;
    tracing::warn!(
        requested = %requested.display(),
        using = %fallback.display(),
        "the {user} user cannot reach the requested data directory; using another"
    );
    Ok(fallback)
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not valid UTF-8", p.display()))
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn user_ids(user: &str) -> Result<(u32, u32)> {
    let id = |flag: &str| -> Result<u32> {
        let out = Command::new("id").args([flag, user]).output()?;
        if !out.status.success() {
            bail!("there is no '{user}' user to run PostgreSQL as (PostgreSQL refuses to run as root)");
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    };
    Ok((id("-u")?, id("-g")?))
}

/// Directory holding `initdb`, `pg_ctl` and `postgres`: `SCOREWATCH_PG_BIN`, else the
/// directory of `pg_ctl` on PATH, else the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SCOREWATCH_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).exists())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_all(&dir) {
                // Resolve symlinks so that pg_ctl finds its sibling `postgres`.
                let real = fs::canonicalize(dir.join("pg_ctl")).ok();
                return Ok(real
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_all(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).context(
        "no PostgreSQL server binaries found (initdb, pg_ctl, postgres): install PostgreSQL, \
         put its bin directory on PATH or in SCOREWATCH_PG_BIN, or set DATABASE_URL",
    )
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until the server accepts connections (pg_ctl -w already waits; this covers
/// attaching to a cluster another process is still starting).
pub async fn wait_ready(url: &str, timeout: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match sqlx::PgPool::connect(url).await {
            Ok(pool) => {
                pool.close().await;
                return Ok(());
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(e).context("PostgreSQL did not accept connections in time")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
