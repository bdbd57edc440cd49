//! The operators' console for plugins. The decision log: every plugin decision on the request
//! path is recorded (a password only as its shape), browsed and filtered by operators in the API
//! and the pages, linked from a request, and pruned by age and count. The slots: what serves,
//! what is installed, what served before; activation and rollback in one action. Trying
//! candidates: dry runs and replays.

mod log;
mod settings;
mod shadow;
mod slots;
mod trying;

use crate::requests::Desk;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// The decisions the API lists for `query`, once they satisfy `ready` (the writer stores
/// decisions a moment after they are made).
pub async fn decisions(desk: &Desk, query: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let (s, body) = desk
            .env
            .get(&format!("/api/v1/decisions{query}"), Some(&desk.operator))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let list = body["decisions"].as_array().unwrap().clone();
        if ready(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the decisions for {query} never came")
}
