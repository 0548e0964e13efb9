//! `ceiling`: the least an HTTP server on this machine can do per request. It reads each request
//! whole and answers `200 {}` as AWS JSON 1.1, over keep-alive HTTP/1.1 connections, on a tokio
//! runtime like ferrokms's. `scripts/bench.sh` drives it with the same load generator and the same
//! signed requests as ferrokms, so the ratio of the two is ferrokms's share of the machine.

use bytes::Bytes;
use clap::Parser;
use http::{header, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;

#[derive(Parser)]
#[command(about = "A bare hyper server answering {} to every request (the benchmark's ceiling)")]
struct Args {
    /// Address to listen on; port 0 picks a free one (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Runtime worker threads (default: one per CPU, as ferrokms).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = args.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder.build().map_err(|e| e.to_string())?;
    runtime.block_on(serve(args.listen))
}

async fn serve(listen: SocketAddr) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("ceiling: listening on http://{addr}");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("ceiling: accept: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

/// Reads the body (as a server must) and answers `{}`.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = request.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    Ok(response)
}
