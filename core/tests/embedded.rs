//! The embedded PostgreSQL: created, started, reused by a second process-like handle,
//! stopped, and restarted with its data intact.

use scorewatch_core::embedded::EmbeddedPostgres;
use scorewatch_core::store::{Database, DatabaseLocation};

#[tokio::test]
async fn embedded_cluster_keeps_data_between_runs() {
    let dir = tempfile::Builder::new()
        .prefix("scorewatch-pg-")
        .tempdir()
        .unwrap();
    // The postgres user (used when running as root) must be able to enter the directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let location = DatabaseLocation::Embedded {
        data_dir: dir.path().join("pg"),
    };

    let db = Database::open(&location, 2).await.unwrap();
    sqlx::query("CREATE TABLE kept (v int)")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO kept VALUES (42)")
        .execute(&db.pool)
        .await
        .unwrap();
    let port = db.embedded.as_ref().unwrap().port();
    // A new cluster has room for drift reports' column blocks in shared buffers, set in its
    // own configuration so that its owner can change it.
    let shared: String = sqlx::query_scalar("SHOW shared_buffers")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(shared, "512MB");
    sqlx::query("ALTER SYSTEM SET shared_buffers = '256MB'")
        .execute(&db.pool)
        .await
        .unwrap();

    // A second handle attaches to the running cluster and does not own it.
    let mut second = EmbeddedPostgres::start(&dir.path().join("pg")).unwrap();
    assert_eq!(second.port(), port);
    second.stop();
    let still: i32 = sqlx::query_scalar("SELECT v FROM kept")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(still, 42, "a non-owning handle must not stop the cluster");

    db.pool.close().await;
    drop(db); // stops the cluster
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the cluster should be stopped"
    );

    let again = Database::open(&location, 2).await.unwrap();
    let v: i32 = sqlx::query_scalar("SELECT v FROM kept")
        .fetch_one(&again.pool)
        .await
        .unwrap();
    assert_eq!(v, 42);
    let shared: String = sqlx::query_scalar("SHOW shared_buffers")
        .fetch_one(&again.pool)
        .await
        .unwrap();
    assert_eq!(shared, "256MB", "the owner's setting holds after a restart");
    let migrated: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&again.pool)
        .await
        .unwrap();
    assert!(migrated >= 1);
}
