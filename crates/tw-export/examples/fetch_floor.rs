//! Benchmark helper for `cargo xtask bench`: the floor of sequential cursor
//! pagination. Requests every page of the skill-clusters export over one
//! connection (the same HTTP transport the exporter uses) and discards it:
//! no decoding, no writing. The cursor is read from the body's ends
//! ([`tw_export::model::peek_next_cursor`]), where the sandbox puts it.
//!
//! `fetch_floor <base-url> <bearer-token>`

#![allow(clippy::print_stdout)]

use tw_transport::{BaseUrl, HttpTransport, Request, Transport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().ok_or("usage: fetch_floor <base-url> <token>")?;
    let token = args.next().ok_or("usage: fetch_floor <base-url> <token>")?;
    let transport = HttpTransport::new(BaseUrl::parse(&base)?)?;
    let include = r#""include":["current_skills","related_skills","rejected_skills","sources"]"#;
    let mut cursor: Option<String> = None;
    let (mut pages, mut bytes) = (0u64, 0u64);
    loop {
        let body = match &cursor {
            None => format!(r#"{{"limit":100,{include}}}"#),
            Some(c) => format!(r#"{{"limit":100,{include},"starting_after":"{c}"}}"#),
        };
        let response = transport.send(
            &Request::post_json("/export/employees/skill_clusters", body.into_bytes())
                .with_header("Authorization", format!("Bearer {token}")),
        )?;
        pages += 1;
        bytes += response.body.len() as u64;
        cursor = tw_export::model::peek_next_cursor(&response.body).map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    println!("RESULT pages {pages}");
    println!("RESULT bytes {bytes}");
    Ok(())
}
