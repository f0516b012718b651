//! The process: where it listens, the admin API's token, and how long a shutdown may take.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::env::{Env, is_header_safe};
use super::{ConfigError, vars};
use crate::secret::Secret;

/// Default `PORT`.
pub const DEFAULT_PORT: u16 = 3000;

/// Default `ADMIN_ADDR`: loopback only, one port above the default `PORT`.
pub const DEFAULT_ADMIN_ADDR: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT + 1);

/// Minimum length of `BOT_ADMIN_TOKEN`.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// Default `SHUTDOWN_TIMEOUT_SECS`.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);

/// `BIND_ADDR`:`PORT`.
pub(super) fn listen(env: &Env) -> Result<SocketAddr, ConfigError> {
    let port = match env.get(vars::PORT)? {
        None => DEFAULT_PORT,
        Some(v) => match v.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                return Err(ConfigError::invalid(
                    vars::PORT,
                    format!("expected a port number 1-65535, got {v:?}"),
                ));
            }
        },
    };
    let bind = match env.get(vars::BIND_ADDR)? {
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(v) => v.parse::<IpAddr>().map_err(|_| {
            ConfigError::invalid(
                vars::BIND_ADDR,
                format!("expected an IP address such as 127.0.0.1 or 0.0.0.0, got {v:?}"),
            )
        })?,
    };
    Ok(SocketAddr::new(bind, port))
}

/// `ADMIN_ADDR`: where `/admin`, `/metrics` and `/healthz` are served; never the public
/// `listen` address.
pub(super) fn admin_listen(env: &Env, listen: SocketAddr) -> Result<SocketAddr, ConfigError> {
    let admin = match env.get(vars::ADMIN_ADDR)? {
        None => DEFAULT_ADMIN_ADDR,
        Some(v) => v.parse::<SocketAddr>().map_err(|_| {
            ConfigError::invalid(
                vars::ADMIN_ADDR,
                format!("expected an address and port such as 127.0.0.1:3001, got {v:?}"),
            )
        })?,
    };
    let clash = admin.port() != 0
        && admin.port() == listen.port()
        && (admin.ip() == listen.ip()
            || admin.ip().is_unspecified()
            || listen.ip().is_unspecified());
    if clash {
        return Err(ConfigError::invalid(
            vars::ADMIN_ADDR,
            format!("must differ from the public listen address {listen}"),
        ));
    }
    Ok(admin)
}

/// `BOT_ADMIN_TOKEN`; `None` disables the admin API.
pub(super) fn admin_token(env: &Env) -> Result<Option<Secret>, ConfigError> {
    let admin_token = match env.get(vars::BOT_ADMIN_TOKEN)? {
        None => None,
        Some(token) => {
            if !is_header_safe(token) {
                return Err(ConfigError::invalid(
                    vars::BOT_ADMIN_TOKEN,
                    "must be printable ASCII without spaces".to_owned(),
                ));
            }
            if token.len() < MIN_ADMIN_TOKEN_LEN {
                return Err(ConfigError::invalid(
                    vars::BOT_ADMIN_TOKEN,
                    format!("too short: use at least {MIN_ADMIN_TOKEN_LEN} characters"),
                ));
            }
            Some(Secret::new(token))
        }
    };
    Ok(admin_token)
}

/// `SHUTDOWN_TIMEOUT_SECS`.
pub(super) fn shutdown_timeout(env: &Env) -> Result<Duration, ConfigError> {
    Ok(env
        .seconds(vars::SHUTDOWN_TIMEOUT_SECS, 1, 3600)?
        .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT))
}
