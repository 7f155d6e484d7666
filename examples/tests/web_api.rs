//! The web_api scenario end to end: the API served on 127.0.0.1, driven through every route by
//! a real HTTP client, on the embedded store and on the local Cosmos DB-compatible server.

use cosmos_repo::MemoryStore;
use examples::{Order, Store, web};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// Serves the API over `store` on a free loopback port; answers its base URL.
async fn serve(store: Store) -> String {
    store.prepare::<Order>().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, web::router(store)).await });
    format!("http://{addr}")
}

fn etag_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("etag")
        .expect("an ETag header")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn every_route(base: &str) {
    let http = Client::new();
    let items = format!("{base}/api/cosmos/items");
    let item = format!("{items}/o-1?customerId=contoso");

    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    let order = json!({ "id": "o-1", "customerId": "contoso", "status": "open", "total": 10.0 });
    let created = http.post(&items).json(&order).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let first_etag = etag_of(&created);
    let body: Value = created.json().await.unwrap();
    assert_eq!(
        (body["id"].as_str(), body["total"].as_f64()),
        (Some("o-1"), Some(10.0))
    );

    let read = http.get(&item).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(etag_of(&read), first_etag);

    let missing = http
        .get(format!("{items}/none?customerId=contoso"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let error: Value = missing.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("not found"),
        "{error}"
    );

    // PUT needs If-Match; with the current ETag it replaces, with a stale one it is refused.
    let paid = json!({ "id": "o-1", "customerId": "contoso", "status": "paid", "total": 10.0 });
    let without = http.put(&item).json(&paid).send().await.unwrap();
    assert_eq!(without.status(), StatusCode::PRECONDITION_REQUIRED);
    let replaced = http
        .put(&item)
        .header("if-match", &first_etag)
        .json(&paid)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::OK);
    let second_etag = etag_of(&replaced);
    assert_ne!(second_etag, first_etag);
    let stale = http
        .put(&item)
        .header("if-match", &first_etag)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);

    // PATCH through the typed patch, optionally under If-Match.
    let patched = http
        .patch(&item)
        .header("if-match", &second_etag)
        .json(&json!({ "status": "shipped", "addToTotal": 2.5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let body: Value = patched.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["total"].as_f64()),
        (Some("shipped"), Some(12.5))
    );
    let stale_patch = http
        .patch(&item)
        .header("if-match", &second_etag)
        .json(&json!({ "status": "lost" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale_patch.status(), StatusCode::PRECONDITION_FAILED);
    let missing_patch = http
        .patch(format!("{items}/none?customerId=contoso"))
        .json(&json!({ "addToTotal": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_patch.status(), StatusCode::NOT_FOUND);

    let last: Value = http.get(&item).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (last["status"].as_str(), last["total"].as_f64()),
        (Some("shipped"), Some(12.5))
    );
}

#[tokio::test]
async fn every_route_on_the_embedded_store() {
    let base = serve(Store::Embedded(MemoryStore::new())).await;
    every_route(&base).await;
}

#[tokio::test]
async fn every_route_on_the_local_server() {
    let cosmos = cosmos_repo_tests::server::local_database().await;
    let base = serve(Store::Cosmos {
        cosmos,
        emulator: true,
    })
    .await;
    every_route(&base).await;
}
