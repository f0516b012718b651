//! `RedisServer` itself: a real `redis-server` on a free loopback port.

use std::net::TcpStream;
use std::time::Duration;

use meta_webhooks::test_util::RedisServer;

fn reachable(server: &RedisServer) -> bool {
    TcpStream::connect_timeout(&server.addr(), Duration::from_millis(300)).is_ok()
}

#[test]
fn starts_on_a_free_loopback_port_stops_and_restarts_on_the_same_port() {
    let mut server = RedisServer::start().expect("redis-server must be installed");
    assert!(server.is_running());
    assert!(server.addr().ip().is_loopback());
    assert_eq!(
        server.url(),
        format!("redis://127.0.0.1:{}/", server.port())
    );
    assert!(reachable(&server));

    let port = server.port();
    server.stop();
    assert!(!server.is_running());
    assert!(!reachable(&server));
    server.stop(); // idempotent

    server.restart().expect("restart");
    assert_eq!(server.port(), port);
    assert!(server.is_running());
    assert!(reachable(&server));
}

#[test]
fn two_servers_get_different_ports_and_drop_kills_them() {
    let a = RedisServer::start().expect("redis-server must be installed");
    let b = RedisServer::start().expect("redis-server must be installed");
    assert_ne!(a.port(), b.port());
    let addr = a.addr();
    drop(a);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err());
    drop(b);
}
