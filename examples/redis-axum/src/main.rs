//! Run with: APP_SECRET=… VERIFY_TOKEN=… REDIS_URL=redis://127.0.0.1:6379/ cargo run -p redis-axum
//!
//! `/webhook` answers 200 only once Redis stored the events; the workers print each one once.
use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken, event::Event};
use meta_webhooks::{endpoint::Endpoint, redis::Streams, sink::handler_fn, tower::Webhook};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str, or: &str| std::env::var(name).unwrap_or_else(|_| or.to_owned());
    let redis = Streams::builder(std::env::var("REDIS_URL")?);
    let streams = redis.connect().await?;
    let handler = handler_fn(|event: Event| async move {
        let from = event.sender().map_or("-", |p| p.as_str());
        let (kind, text) = (event.kind(), event.text().unwrap_or(""));
        println!("handled {kind} from {from}: {text}");
        Ok::<(), std::convert::Infallible>(())
    });
    let workers = streams.start_workers(handler).await?;
    let verifier = Verifier::new(AppSecret::new(std::env::var("APP_SECRET")?)?);
    let handshake = Handshake::new(VerifyToken::new(std::env::var("VERIFY_TOKEN")?)?);
    let endpoint = Endpoint::builder(verifier, handshake, streams.sink()).build();
    let app = axum::Router::new().route_service("/webhook", Webhook::new(endpoint));
    let listener = tokio::net::TcpListener::bind(var("LISTEN", "127.0.0.1:3000")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let stop = async { drop(tokio::signal::ctrl_c().await) };
    let server = axum::serve(listener, app).with_graceful_shutdown(stop);
    server.await?;
    workers.shutdown(std::time::Duration::from_secs(10)).await; // finish what is in hand
    Ok(())
}
