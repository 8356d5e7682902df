//! The hash chain: what each record's hash covers, byte for byte, and the check of stored
//! chains that both backends feed with their rows.

use caseload_domain::Timestamp;

use super::{AuditRecord, AuditVerification, ChainBreak};
use crate::StoreError;

/// The `prev_hash` of a chain's first record: 32 zero bytes.
pub const GENESIS: [u8; 32] = [0; 32];

/// Domain separation: the first bytes hashed for every record, naming the layout's version.
const LAYOUT: &[u8] = b"caseload-audit-v1";

/// The hashed content of an audit record, as stored (`before` and `after` are the exact JSON
/// text of their columns).
///
/// A record's `hash` is BLAKE3 (32 bytes) over these bytes, in this order:
///
/// | bytes | what |
/// |---|---|
/// | 17 | the ASCII text `caseload-audit-v1` |
/// | 32 | `prev_hash` |
/// | 8 | `seq`, signed 64-bit, big-endian |
/// | 8 | `at`, microseconds since the Unix epoch, signed 64-bit, big-endian |
/// | text | `chain` |
/// | text | `actor` |
/// | optional text | `interaction_id` |
/// | text | `action` |
/// | text | `subject` |
/// | optional text | `before` |
/// | optional text | `after` |
///
/// where *text* is the UTF-8 length in bytes as an unsigned 32-bit big-endian integer
/// followed by the UTF-8 bytes, and *optional text* is one byte `0x00` when the column is
/// NULL, or one byte `0x01` followed by the text. Every variable part carries its length, so
/// no two different records hash the same bytes.
#[derive(Debug, Clone, Copy)]
pub struct AuditContent<'a> {
    /// `seq`.
    pub seq: i64,
    /// `chain`.
    pub chain: &'a str,
    /// `at`.
    pub at: Timestamp,
    /// `actor`.
    pub actor: &'a str,
    /// `interaction_id`.
    pub interaction_id: Option<&'a str>,
    /// `action`.
    pub action: &'a str,
    /// `subject`.
    pub subject: &'a str,
    /// `before`, the JSON text as stored.
    pub before: Option<&'a str>,
    /// `after`, the JSON text as stored.
    pub after: Option<&'a str>,
}

impl AuditContent<'_> {
    /// The record's hash when it follows a record whose hash is `prev_hash`.
    pub fn hash(&self, prev_hash: &[u8; 32]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(LAYOUT);
        h.update(prev_hash);
        h.update(&self.seq.to_be_bytes());
        h.update(&self.at.as_micros().to_be_bytes());
        for text in [self.chain, self.actor] {
            text_bytes(&mut h, text);
        }
        optional_text(&mut h, self.interaction_id);
        for text in [self.action, self.subject] {
            text_bytes(&mut h, text);
        }
        optional_text(&mut h, self.before);
        optional_text(&mut h, self.after);
        *h.finalize().as_bytes()
    }
}

fn text_bytes(h: &mut blake3::Hasher, text: &str) {
    // Texts are far below 4 GiB: every column is bounded long before that.
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    h.update(&len.to_be_bytes());
    h.update(text.as_bytes());
}

fn optional_text(h: &mut blake3::Hasher, text: Option<&str>) {
    match text {
        None => {
            h.update(&[0]);
        }
        Some(text) => {
            h.update(&[1]);
            text_bytes(h, text);
        }
    }
}

/// A row of `audit_records`, as both backends store it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub seq: i64,
    pub chain: String,
    pub at: i64,
    pub actor: String,
    pub interaction_id: Option<String>,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The columns of [`AuditRow`], in order.
pub(crate) const AUDIT_COLUMNS: &str =
    "seq, chain, at, actor, interaction_id, action, subject, before, after, prev_hash, hash";

impl AuditRow {
    /// What the row's hash covers.
    pub fn content(&self) -> AuditContent<'_> {
        AuditContent {
            seq: self.seq,
            chain: &self.chain,
            at: Timestamp::from_micros(self.at),
            actor: &self.actor,
            interaction_id: self.interaction_id.as_deref(),
            action: &self.action,
            subject: &self.subject,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
        }
    }
}

/// A stored 32-byte hash; anything else is a corrupt trail.
pub(crate) fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Internal(format!("{what} is not a 32-byte hash")))
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let json = |text: Option<String>| {
            text.map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| {
                    StoreError::Internal(format!("stored audit record is unreadable: {e}"))
                })
        };
        Ok(AuditRecord {
            prev_hash: hash32(&row.prev_hash, "a stored prev_hash")?,
            hash: hash32(&row.hash, "a stored hash")?,
            seq: row.seq,
            at: Timestamp::from_micros(row.at),
            actor: row.actor,
            interaction_id: row.interaction_id,
            action: row.action,
            subject: row.subject,
            before: json(row.before)?,
            after: json(row.after)?,
            chain: row.chain,
        })
    }
}

/// A chain's head as stored in `audit_heads`: its last record's seq and hash.
pub(crate) type Head = (i64, Vec<u8>);

/// Checks stored records fed in (chain, seq) order, each with its chain's stored head.
pub(crate) struct Verifier {
    chains: u64,
    records: u64,
    current: Option<ChainState>,
    first_break: Option<ChainBreak>,
}

struct ChainState {
    chain: String,
    head: Option<Head>,
    last_seq: i64,
    last_hash: Vec<u8>,
    broken: bool,
}

impl Verifier {
    pub fn new() -> Self {
        Self {
            chains: 0,
            records: 0,
            current: None,
            first_break: None,
        }
    }

    /// The next record: the one after the previous in its chain, or the first of the next
    /// chain.
    pub fn check(&mut self, row: &AuditRow, head: Option<Head>) {
        if self.current.as_ref().is_none_or(|c| c.chain != row.chain) {
            self.end_chain();
            self.current = Some(ChainState {
                chain: row.chain.clone(),
                head,
                last_seq: 0,
                last_hash: GENESIS.to_vec(),
                broken: false,
            });
        }
        self.records += 1;
        let Some(state) = self.current.as_mut() else {
            return;
        };
        if state.broken {
            return;
        }
        let problem = if row.prev_hash != state.last_hash {
            Some(if state.last_seq == 0 {
                "its prev_hash is not the genesis hash, though it is the chain's first record"
                    .to_owned()
            } else {
                format!(
                    "its prev_hash is not the hash of the chain's previous record (seq {})",
                    state.last_seq
                )
            })
        } else if hash32(&row.prev_hash, "")
            .map(|prev| row.content().hash(&prev).as_slice() != row.hash.as_slice())
            .unwrap_or(true)
        {
            Some("its hash does not match its content".to_owned())
        } else {
            None
        };
        match problem {
            Some(reason) => {
                state.broken = true;
                let chain = state.chain.clone();
                self.broke(chain, row.seq, reason);
            }
            None => {
                state.last_seq = row.seq;
                state.last_hash.clone_from(&row.hash);
            }
        }
    }

    /// A head whose chain has no records left.
    pub fn check_empty_chain(&mut self, chain: String, head: Head) {
        self.end_chain();
        self.chains += 1;
        let reason = format!(
            "its head names seq {} as the last record, but the chain has no records",
            head.0
        );
        self.broke(chain, head.0, reason);
    }

    /// The verdict, once every record has been checked.
    pub fn finish(mut self) -> AuditVerification {
        self.end_chain();
        AuditVerification {
            chains: self.chains,
            records: self.records,
            first_break: self.first_break,
        }
    }

    /// Compares the chain just checked with its head.
    fn end_chain(&mut self) {
        let Some(state) = self.current.take() else {
            return;
        };
        self.chains += 1;
        if state.broken {
            return;
        }
        match state.head {
            None => self.broke(
                state.chain,
                state.last_seq,
                "the chain has no head in audit_heads".to_owned(),
            ),
            Some((seq, _)) if seq != state.last_seq => {
                let reason = format!(
                    "its head names seq {seq} as the last record, but the last record is seq {}",
                    state.last_seq
                );
                self.broke(state.chain, seq.max(state.last_seq), reason);
            }
            Some((seq, hash)) if hash != state.last_hash => self.broke(
                state.chain,
                seq,
                "its head's hash is not the hash of its last record".to_owned(),
            ),
            Some(_) => {}
        }
    }

    /// Keeps the break with the lowest seq.
    fn broke(&mut self, chain: String, seq: i64, reason: String) {
        if self.first_break.as_ref().is_none_or(|b| seq < b.seq) {
            self.first_break = Some(ChainBreak { chain, seq, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, chain: &str, prev: [u8; 32], after: &str) -> AuditRow {
        let mut row = AuditRow {
            seq,
            chain: chain.to_owned(),
            at: 1_000 * seq,
            actor: "alice".to_owned(),
            interaction_id: Some("req-1".to_owned()),
            action: "plan.update".to_owned(),
            subject: "plan".to_owned(),
            before: None,
            after: Some(after.to_owned()),
            prev_hash: prev.to_vec(),
            hash: Vec::new(),
        };
        row.hash = row.content().hash(&prev).to_vec();
        row
    }

    fn chain(chain: &str, seqs: &[i64]) -> Vec<AuditRow> {
        let mut prev = GENESIS;
        seqs.iter()
            .map(|&seq| {
                let r = row(seq, chain, prev, &format!("{{\"n\":{seq}}}"));
                prev = hash32(&r.hash, "").expect("32 bytes");
                r
            })
            .collect()
    }

    fn verify(rows: &[AuditRow], heads: &[(&str, Head)]) -> AuditVerification {
        let mut verifier = Verifier::new();
        for r in rows {
            let head = heads
                .iter()
                .find(|(c, _)| *c == r.chain)
                .map(|(_, h)| h.clone());
            verifier.check(r, head);
        }
        verifier.finish()
    }

    fn head_of(rows: &[AuditRow]) -> Head {
        let last = rows.last().expect("a record");
        (last.seq, last.hash.clone())
    }

    #[test]
    fn the_hash_covers_every_column_and_tells_absent_from_empty() {
        let base = row(1, "p", GENESIS, "{}");
        let h = |r: &AuditRow| r.content().hash(&GENESIS);
        let mut other = base.clone();
        other.interaction_id = Some(String::new());
        assert_ne!(h(&base), h(&other));
        other.interaction_id = None;
        assert_ne!(h(&base), h(&other));
        let mut other = base.clone();
        other.at += 1;
        assert_ne!(h(&base), h(&other));
        // Moving bytes from one column to the next changes the hash.
        let mut other = base.clone();
        other.action = "plan.updat".to_owned();
        other.subject = "eplan".to_owned();
        assert_ne!(h(&base), h(&other));
        assert_ne!(base.content().hash(&[1; 32]), h(&base));
    }

    #[test]
    fn intact_chains_verify() {
        let mut rows = chain("a", &[1, 4, 5]);
        let b = chain("b", &[2, 3]);
        let heads = [("a", head_of(&rows)), ("b", head_of(&b))];
        rows.extend(b);
        let found = verify(&rows, &heads);
        assert_eq!((found.chains, found.records), (2, 5));
        assert!(found.is_intact(), "{found:?}");
    }

    #[test]
    fn a_changed_record_breaks_its_chain_at_its_seq() {
        let mut rows = chain("a", &[1, 2, 3]);
        let heads = [("a", head_of(&rows))];
        rows[1].after = Some("{\"n\":20}".to_owned());
        let found = verify(&rows, &heads).first_break.expect("a break");
        assert_eq!((found.chain.as_str(), found.seq), ("a", 2));
        assert!(found.reason.contains("content"), "{}", found.reason);
    }

    #[test]
    fn a_removed_record_breaks_the_chain_at_the_next() {
        let mut rows = chain("a", &[1, 2, 3]);
        let heads = [("a", head_of(&rows))];
        rows.remove(1);
        let found = verify(&rows, &heads).first_break.expect("a break");
        assert_eq!(found.seq, 3);
        assert!(found.reason.contains("previous record (seq 1)"));
    }

    #[test]
    fn removed_newest_records_are_caught_by_the_head() {
        let mut rows = chain("a", &[1, 2, 3]);
        let heads = [("a", head_of(&rows))];
        rows.truncate(2);
        let found = verify(&rows, &heads).first_break.expect("a break");
        assert_eq!(found.seq, 3);
        let mut verifier = Verifier::new();
        verifier.check_empty_chain("b".to_owned(), (7, vec![0; 32]));
        assert_eq!(verifier.finish().first_break.map(|b| b.seq), Some(7));
    }

    #[test]
    fn the_earliest_break_of_all_chains_is_reported() {
        let mut a = chain("a", &[1, 3, 5]);
        let mut b = chain("b", &[2, 4, 6]);
        let heads = [("a", head_of(&a)), ("b", head_of(&b))];
        a[2].actor = "mallory".to_owned();
        b[1].actor = "mallory".to_owned();
        a.extend(b);
        let found = verify(&a, &heads).first_break.expect("a break");
        assert_eq!((found.chain.as_str(), found.seq), ("b", 4));
    }
}
