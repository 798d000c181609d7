//! Administration from the command line: creating users, and the first
//! administrator from the environment on an empty database.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::agencies::AgencyKind;
use crate::audit::Actor;
use crate::auth::{Role, password};
use crate::changes::{self, Change};
use crate::schema::{agencies, users};

/// Code of the agency that system administrators belong to.
pub const SYSTEM_AGENCY_CODE: &str = "PULANG";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name (lower case letters, digits, `.`, `_`, `-`).
    pub username: String,
    /// The person's full name.
    pub full_name: String,
    /// Roles to grant.
    pub roles: Vec<Role>,
    /// Code of the agency; the system agency when `None`.
    pub agency_code: Option<String>,
    /// The password to set.
    pub password: String,
}

/// Creates a user. The system agency is created on first use.
pub async fn create_user(conn: &mut AsyncPgConnection, user: NewUser) -> anyhow::Result<Uuid> {
    let username = user.username.trim().to_lowercase();
    if let Err(why) = password::check_strength(&user.password, &username) {
        anyhow::bail!("the password {why}");
    }
    if user.roles.contains(&Role::Integration) {
        anyhow::bail!("the integration role is for machine clients, not users");
    }
    let hash = password::hash(&user.password)?;
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        {
            let agency_id = match &user.agency_code {
                Some(code) => agencies::table
                    .filter(agencies::code.eq(code.to_uppercase()))
                    .select(agencies::id)
                    .first::<Uuid>(conn)
                    .await
                    .optional()?
                    .ok_or_else(|| anyhow::anyhow!("no agency has the code {code}"))?,
                None => system_agency(conn).await?,
            };
            let id = diesel::insert_into(users::table)
                .values((
                    users::agency_id.eq(agency_id),
                    users::username.eq(&username),
                    users::full_name.eq(user.full_name.trim()),
                    users::password_hash.eq(&hash),
                    users::roles.eq(&user.roles),
                ))
                .returning(users::id)
                .get_result::<Uuid>(conn)
                .await
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                        anyhow::anyhow!("the username {username} is taken")
                    }
                    diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::CheckViolation, _) => {
                        anyhow::anyhow!(
                            "the username {username} is not allowed: 3 to 64 lower-case letters, digits, '.', '_' or '-'"
                        )
                    }
                    other => other.into(),
                })?;
            let actor = Actor::system();
            let change = Change::of(&actor, "user.create", "user", id)
                .after(&serde_json::json!({"username": username, "roles": user.roles, "agency_id": agency_id}));
            changes::record(conn, change).await?;
            Ok(id)
        }
    })
    .await
}

/// The id of the system agency, created if missing.
async fn system_agency(conn: &mut AsyncPgConnection) -> anyhow::Result<Uuid> {
    diesel::insert_into(agencies::table)
        .values((
            agencies::code.eq(SYSTEM_AGENCY_CODE),
            agencies::name.eq("Pulang system administration"),
            agencies::kind.eq(AgencyKind::System),
        ))
        .on_conflict(agencies::code)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(agencies::table
        .filter(agencies::code.eq(SYSTEM_AGENCY_CODE))
        .select(agencies::id)
        .first(conn)
        .await?)
}

/// Creates the first system administrator from `PULANG_ADMIN_USERNAME` and
/// `PULANG_ADMIN_PASSWORD` when the database has no user yet. Returns the
/// username it created, if any.
pub async fn bootstrap_admin_from_env(
    conn: &mut AsyncPgConnection,
) -> anyhow::Result<Option<String>> {
    let (Some(username), Some(pass)) = (
        std::env::var("PULANG_ADMIN_USERNAME")
            .ok()
            .filter(|v| !v.is_empty()),
        std::env::var("PULANG_ADMIN_PASSWORD")
            .ok()
            .filter(|v| !v.is_empty()),
    ) else {
        return Ok(None);
    };
    let existing: i64 = users::table.count().get_result(conn).await?;
    if existing > 0 {
        return Ok(None);
    }
    create_user(
        conn,
        NewUser {
            username: username.clone(),
            full_name: "System administrator".into(),
            roles: vec![Role::SystemAdmin],
            agency_code: None,
            password: pass,
        },
    )
    .await?;
    Ok(Some(username))
}
