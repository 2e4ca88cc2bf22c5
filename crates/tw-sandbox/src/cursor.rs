//! Opaque cursors: a position in the tenant (and, for the empty-page fault,
//! a counter), masked with the seed and checksummed, so that a cursor is
//! never an employee id and a made-up one is rejected.

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// The index of the first employee the next page may contain.
    pub next: u32,
    /// How many empty pages were served at this position (fault injection).
    pub empties: u32,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn encode(position: Position, seed: u64) -> String {
    let raw = (u64::from(position.next) << 32) | u64::from(position.empties);
    let key = mix(seed ^ 0x5EED_C0DE);
    let check = mix(raw ^ seed) & 0xffff;
    format!("sc1{:016x}{check:04x}", raw ^ key)
}

/// Decodes a cursor made by [`encode`] with the same seed.
pub(crate) fn decode(cursor: &str, seed: u64) -> Option<Position> {
    let body = cursor.strip_prefix("sc1")?;
    if body.len() != 20 || !body.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let masked = u64::from_str_radix(&body[..16], 16).ok()?;
    let check = u64::from_str_radix(&body[16..], 16).ok()?;
    let raw = masked ^ mix(seed ^ 0x5EED_C0DE);
    if mix(raw ^ seed) & 0xffff != check {
        return None;
    }
    Some(Position {
        next: (raw >> 32) as u32,
        empties: raw as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        for (next, empties) in [(0, 0), (1, 0), (100, 3), (u32::MAX, u32::MAX)] {
            let position = Position { next, empties };
            let cursor = encode(position, 42);
            assert_eq!(cursor.len(), 23);
            assert_eq!(decode(&cursor, 42), Some(position));
            assert_eq!(decode(&cursor, 43), None, "another tenant's cursor");
            let mut tampered = cursor.clone().into_bytes();
            tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
            assert_eq!(decode(std::str::from_utf8(&tampered).unwrap(), 42), None);
        }
        assert_eq!(decode("emp_0000001", 42), None);
        assert_eq!(decode("", 42), None);
        assert_eq!(decode("sc1zzzzzzzzzzzzzzzzzzzz", 42), None);
    }
}
