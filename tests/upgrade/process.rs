//! Running a `switchboard` binary (today's, or the old one a fixture is made
//! with): `serve` on port 0, `migrate`, `user add`, and PostgreSQL set-up.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// A private config and data dir for one run of the binary.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    /// `config` is the text of `config.toml`.
    pub fn new(config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, bin: &Path) -> Command {
        let mut c = Command::new(bin);
        c.arg("--config")
            .arg(self.path().join("config.toml"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env_remove("SWITCHBOARD_DATABASE_URL")
            .env_remove("SWITCHBOARD_SERVER")
            .env("SWITCHBOARD_LOG", "info")
            .kill_on_drop(true);
        c
    }
}

/// A `serve` process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub stderr: PathBuf,
}

/// The outcome of a `serve` that was expected to refuse.
pub struct Exit {
    pub success: bool,
    pub stderr: String,
}

/// Starts `serve` and waits for its `listening on` line; Err with the
/// exit status and stderr when it stops first.
pub async fn serve(bin: &Path, home: &Home, database_url: &str) -> Result<Server, Exit> {
    let stderr = home
        .path()
        .join(format!("serve-{}.log", uuid::Uuid::new_v4().simple()));
    let mut child = home
        .command(bin)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .expect("serve announced nothing within 120 s");
    match first {
        Ok(Some(line)) if line.starts_with("listening on ") => {
            let url = line.trim_start_matches("listening on ").trim().to_string();
            // Keep reading stdout so the process never blocks on it.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(Server { child, url, stderr })
        }
        _ => {
            let status = child.wait().await.unwrap();
            Err(Exit {
                success: status.success(),
                stderr: std::fs::read_to_string(&stderr).unwrap_or_default(),
            })
        }
    }
}

impl Server {
    /// SIGTERM, then waits for the graceful exit (the store is closed).
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        let waited = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        if waited.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// Runs the binary to completion with `stdin`; (success, stdout, stderr).
pub async fn run(bin: &Path, home: &Home, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = home
        .command(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .expect("the command finished within 300 s")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// `url` with another database (and optionally another user, no password).
pub fn pg_url(url: &str, user: Option<&str>, db: &str) -> String {
    let mut u = reqwest::Url::parse(url).expect("a valid PostgreSQL URL");
    u.set_path(&format!("/{db}"));
    if let Some(user) = user {
        u.set_username(user).unwrap();
        u.set_password(None).unwrap();
    }
    u.to_string()
}

/// A database that is dropped (with its connections) when this is.
pub struct PgDatabase {
    pub admin_url: String,
    pub name: String,
    /// The superuser's URL of the new database: restores and migrates as the owner.
    pub owner_url: String,
    /// The application role's URL: `serve` connects as it.
    pub app_url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str, name: &str) -> PgDatabase {
        let db = PgDatabase {
            admin_url: admin_url.to_string(),
            name: name.to_string(),
            owner_url: pg_url(admin_url, None, name),
            app_url: pg_url(admin_url, Some("switchboard_app"), name),
        };
        db.admin_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        db.admin_sql(&format!("CREATE DATABASE {name}")).await;
        db
    }

    async fn admin_sql(&self, sql: &str) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to the PostgreSQL admin URL");
        sqlx::query(sql).execute(&mut admin).await.unwrap();
        admin.close().await.ok();
    }

    /// One statement in the new database, as the owner.
    pub async fn sql(&self, sql: &str) {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&self.owner_url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        c.close().await.ok();
    }

    /// Restores a plain `pg_dump` with psql, stopping at the first error.
    pub async fn restore(&self, dump: &Path) {
        let out = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.owner_url,
                "-f",
            ])
            .arg(dump)
            .output()
            .await
            .expect("psql is installed");
        assert!(
            out.status.success(),
            "restoring {} failed: {}",
            dump.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The application role exists cluster-wide once any database was
    /// migrated; a restore into a fresh cluster needs it before `migrate`
    /// grants it anything (`migrate` creates it too).
    pub async fn ensure_app_role(&self) {
        self.sql(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') \
             THEN CREATE ROLE switchboard_app LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$",
        )
        .await;
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        if std::env::var_os("SB_KEEP_DATABASE").is_some() {
            return;
        }
        let _ = std::thread::spawn(move || {
            use sqlx::Connection;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
}
