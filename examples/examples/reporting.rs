//! Reporting over orders with lines: conditions on array elements (`any`, `len`), sums and
//! averages, counts and sums per status (`group_by`), distinct values, many documents by key
//! in one call (`read_many`), times that sort (`Timestamp`), read-your-writes with a session
//! token, a raw SQL query, and deleting every order of a customer (`delete_partition`).
//!
//! Runs on the embedded in-memory store when `COSMOS_ENDPOINT` is unset:
//!
//! ```sh
//! cargo run -p examples --example reporting
//! ```
//!
//! With `COSMOS_ENDPOINT` (and `COSMOS_DATABASE`) it runs on Cosmos DB or an emulator, as the
//! quickstart does. It checks every answer and exits with an error if one is wrong.

use std::process::ExitCode;
use std::time::Duration;

use cosmos_repo::Timestamp;
use cosmos_repo::prelude::*;
use examples::{Store, report};

/// A line of an order, queried inside the order's `lines` array.
#[derive(Debug, Clone, Serialize, Deserialize, CosmosFields)]
struct Line {
    sku: String,
    qty: u32,
    price: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "sales")]
#[serde(rename_all = "camelCase")]
struct Sale {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
    status: String,
    total: f64,
    #[cosmos(nested)]
    lines: Vec<Line>,
    note: Option<String>,
    placed_at: Timestamp,
}

fn sale(id: &str, customer: &str, status: &str, lines: &[(&str, u32, f64)], at: Timestamp) -> Sale {
    let lines: Vec<Line> = lines
        .iter()
        .map(|&(sku, qty, price)| Line {
            sku: sku.into(),
            qty,
            price,
        })
        .collect();
    Sale {
        id: id.into(),
        customer: customer.into(),
        status: status.into(),
        total: lines.iter().map(|l| f64::from(l.qty) * l.price).sum(),
        lines,
        note: (status == "open").then(|| "call back".to_owned()),
        placed_at: at,
    }
}

/// Fails the example with what was expected and what came back.
fn check<T: std::fmt::Debug + PartialEq>(
    what: &str,
    got: T,
    expected: T,
) -> cosmos_repo::Result<T> {
    if got == expected {
        println!("{what}: {got:?}");
        Ok(got)
    } else {
        Err(cosmos_repo::Error::Unsupported {
            message: format!("{what}: expected {expected:?}, got {got:?}"),
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let store = Store::from_env().await?;
    store.prepare::<Sale>().await?;
    let sales = store.repository::<Sale>();
    let start = Timestamp::from_unix(1_790_000_000, 0).unwrap_or_else(Timestamp::now);
    let half_second = |n: u64| {
        Timestamp::try_from(std::time::SystemTime::from(start) + Duration::from_millis(500 * n))
            .unwrap_or(start)
    };
    let seed = [
        sale(
            "s-1",
            "contoso",
            "paid",
            &[("pen", 10, 1.5), ("ink", 2, 4.0)],
            half_second(0),
        ),
        sale(
            "s-2",
            "contoso",
            "open",
            &[("paper", 1, 6.0)],
            half_second(1),
        ),
        sale("s-3", "contoso", "paid", &[("pen", 1, 1.5)], half_second(2)),
        sale(
            "s-4",
            "fabrikam",
            "paid",
            &[("ink", 5, 4.0), ("pen", 3, 1.5), ("pad", 1, 2.0)],
            half_second(3),
        ),
        sale("s-5", "fabrikam", "open", &[], half_second(4)),
    ];
    let mut token = None;
    for sale in &seed {
        token = sales.upsert(sale).with_meta().await?.session_token;
    }
    let f = Sale::FIELDS;
    let all = || sales.query().cross_partition();

    let mut many_pens: Vec<String> = all()
        .filter(f.lines.any(|l| l.sku.eq("pen").and(l.qty.ge(3))))
        .select(f.id)
        .all()
        .await?;
    many_pens.sort();
    check(
        "sales with 3 or more pens",
        many_pens,
        vec!["s-1".into(), "s-4".into()],
    )?;
    let big = all().filter(f.lines.len().gt(2)).select(f.id).all().await?;
    check("sales of more than two lines", big, vec!["s-4".into()])?;

    let paid = || all().filter(f.status.eq("paid"));
    check("paid revenue", paid().sum(f.total).await?, Some(51.0))?;
    check("paid sales", paid().count().await?, 3)?;
    let by_status = all().group_by(f.status).sum(f.total).await?;
    check(
        "revenue per status",
        by_status,
        vec![("open".into(), Some(6.0)), ("paid".into(), Some(51.0))],
    )?;
    let per_status = sales
        .query()
        .partition("contoso")
        .group_by(f.status)
        .count()
        .await?;
    check(
        "contoso's sales per status",
        per_status,
        vec![("open".into(), 1), ("paid".into(), 2)],
    )?;
    let mut statuses = all().select(f.status).distinct().all().await?;
    statuses.sort();
    check(
        "statuses",
        statuses,
        vec!["open".to_owned(), "paid".to_owned()],
    )?;
    // An Option field compares with its inner value.
    let open = all().filter(f.note.eq("call back")).count().await?;
    check("sales to call back", open, 2)?;

    let found = sales
        .read_many([("contoso", "s-1"), ("fabrikam", "s-4"), ("contoso", "s-9")])
        .with_meta()
        .await?;
    let ids: Vec<&str> = found.value.found.iter().map(|s| s.id.as_str()).collect();
    check("read_many found", ids, vec!["s-1", "s-4"])?;
    println!(
        "read_many missed {} key(s), {} RU in all",
        found.value.missing.len(),
        found.request_charge
    );

    // Half a second apart: fixed-width timestamps sort and filter in time order.
    let later: Vec<String> = all()
        .filter(f.placed_at.gt(half_second(1)))
        .order_by(f.placed_at.desc())
        .select(f.id)
        .all()
        .await?;
    check(
        "placed after s-2, latest first",
        later,
        vec!["s-5".into(), "s-4".into(), "s-3".into()],
    )?;

    // Another instance given the last write's session token reads at least that write.
    let mut read = sales.read("fabrikam", "s-5");
    if let Some(token) = &token {
        read = read.session_token(token.clone());
    }
    check(
        "read with the session token",
        read.await?.id,
        "s-5".to_owned(),
    )?;

    let totals: Vec<f64> = sales
        .raw_query("SELECT VALUE c.total FROM c WHERE c.customer = @customer AND c.status = 'paid' ORDER BY c.total DESC")
        .param("@customer", "contoso")
        .partition("contoso")
        .returning()
        .all()
        .await?;
    check("contoso's paid totals (raw SQL)", totals, vec![23.0, 1.5])?;

    let deleted = sales.delete_partition("fabrikam").await?;
    check(
        "fabrikam's sales deleted",
        (deleted.deleted, deleted.complete),
        (2, true),
    )?;
    Ok(())
}
