//! Storage backends. The ledger computes every write itself and hands a whole
//! [`WriteSet`] to the store, which commits it atomically: an entry, its tree nodes and
//! the new chain head land together or not at all.
//!
//! [`MemStore`] runs the same ledger code in memory, for tests; the RocksDB backend is in
//! [`crate::rocks`].

use std::collections::BTreeMap;

/// A column family: one typed key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cf {
    /// `seq (u64 BE)` → entry encoding.
    Entries,
    /// `tree (u8) | level (u8) | index (u64 BE)` → node (32 bytes BE).
    Nodes,
    /// `"head"` → `next_seq | head hash | last_time | policies`; `"format"` → store format;
    /// `"origin"` → the log's name; `"tlog-checkpoint"` → the latest C2SP checkpoint.
    Meta,
    /// `checkpoint number (u64 BE)` → `entry seq | superseded_at (u64::MAX: current)`.
    Checkpoints,
    /// `replay id (32)` → `seq`: signed submissions already taken.
    Seen,
    /// `public key (32)` → `role | seq | suspended` (see [`crate::codec`]).
    Keys,
    /// `commitment (32)` → `tree | leaf index | seq`.
    Leaves,
    /// `consent leaf index (u64 BE)` → `granter key (32) | revoked (u8)`.
    Consents,
    /// `request binding (32)` → `seq`: access bindings logged.
    Bindings,
    /// `policy (32) | claim id (32)` → `seq`: claims submitted.
    Claims,
    /// `record commitment (32) | seq (u64 BE)` → nothing: the access entries that name
    /// a record (a patient's access history).
    Accesses,
    /// `stored hash index (u64 BE)` → hash (32): the RFC 6962 tree over the entries, in
    /// the stored-hash layout of [`crate::tlog`].
    Tlog,
}

impl Cf {
    /// Every column family.
    pub const ALL: [Cf; 12] = [
        Cf::Entries,
        Cf::Nodes,
        Cf::Meta,
        Cf::Checkpoints,
        Cf::Seen,
        Cf::Keys,
        Cf::Leaves,
        Cf::Consents,
        Cf::Bindings,
        Cf::Claims,
        Cf::Accesses,
        Cf::Tlog,
    ];

    /// Its name in RocksDB.
    pub fn name(self) -> &'static str {
        match self {
            Cf::Entries => "entries",
            Cf::Nodes => "nodes",
            Cf::Meta => "meta",
            Cf::Checkpoints => "checkpoints",
            Cf::Seen => "seen",
            Cf::Keys => "keys",
            Cf::Leaves => "leaves",
            Cf::Consents => "consents",
            Cf::Bindings => "bindings",
            Cf::Claims => "claims",
            Cf::Accesses => "accesses",
            Cf::Tlog => "tlog",
        }
    }
}

/// Writes to commit together.
#[derive(Debug, Default, Clone)]
pub struct WriteSet {
    /// `(cf, key, value)`; a `None` value deletes.
    pub ops: Vec<(Cf, Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteSet {
    /// Adds a put.
    pub fn put(&mut self, cf: Cf, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((cf, key.into(), Some(value.into())));
    }
}

/// A visitor of `(key, value)` pairs in a scan.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError> + 'a;

/// A stored `(key, value)` pair.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// A storage error.
#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub struct StoreError(pub String);

/// What the ledger needs from storage.
pub trait Store {
    /// Reads one value.
    fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Commits `ws` atomically; with `sync`, durably before returning.
    fn write(&mut self, ws: WriteSet, sync: bool) -> Result<(), StoreError>;
    /// Visits every `(key, value)` of `cf` in key order.
    fn scan(&self, cf: Cf, visit: &mut Visitor<'_>) -> Result<(), StoreError>;
    /// The keys of `cf` that start with `prefix`, in order, at most `limit` of them.
    fn keys_with_prefix(
        &self,
        cf: Cf,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError>;
    /// The last `(key, value)` of `cf`.
    fn last(&self, cf: Cf) -> Result<Option<KeyValue>, StoreError>;
}

/// An in-memory store.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    cfs: BTreeMap<Cf, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Direct access, for tests that tamper with the data.
    pub fn raw_mut(&mut self, cf: Cf) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        self.cfs.entry(cf).or_default()
    }
}

impl Store for MemStore {
    fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.cfs.get(&cf).and_then(|m| m.get(key)).cloned())
    }

    fn write(&mut self, ws: WriteSet, _sync: bool) -> Result<(), StoreError> {
        for (cf, k, v) in ws.ops {
            let m = self.cfs.entry(cf).or_default();
            match v {
                Some(v) => m.insert(k, v),
                None => m.remove(&k),
            };
        }
        Ok(())
    }

    fn scan(&self, cf: Cf, visit: &mut Visitor<'_>) -> Result<(), StoreError> {
        if let Some(m) = self.cfs.get(&cf) {
            for (k, v) in m {
                visit(k, v)?;
            }
        }
        Ok(())
    }

    fn keys_with_prefix(
        &self,
        cf: Cf,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .cfs
            .get(&cf)
            .map(|m| {
                m.range(prefix.to_vec()..)
                    .map(|(k, _)| k)
                    .take_while(|k| k.starts_with(prefix))
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn last(&self, cf: Cf) -> Result<Option<KeyValue>, StoreError> {
        Ok(self
            .cfs
            .get(&cf)
            .and_then(|m| m.iter().next_back())
            .map(|(k, v)| (k.clone(), v.clone())))
    }
}
