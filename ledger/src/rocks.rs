//! The RocksDB backend: one column family per [`Cf`], one `WriteBatch` per commit, and a
//! synced write-ahead log when asked for durability.

use std::path::Path;

use rocksdb::{ColumnFamilyDescriptor, IteratorMode, Options, WriteBatch, WriteOptions, DB};

use crate::store::{Cf, KeyValue, Store, StoreError, Visitor, WriteSet};

/// A ledger store in a RocksDB directory.
pub struct RocksStore {
    db: DB,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.db.path())
            .finish()
    }
}

fn err(e: rocksdb::Error) -> StoreError {
    StoreError(e.into_string())
}

impl RocksStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // Values are hashes and signatures: compression would gain nothing.
        opts.set_compression_type(rocksdb::DBCompressionType::None);
        let cfs = Cf::ALL
            .iter()
            .map(|cf| ColumnFamilyDescriptor::new(cf.name(), Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(err)?;
        Ok(Self { db })
    }

    /// Opens the existing database at `path` read-only: no lock is taken, so it can be
    /// read while another process appends; it sees the data as of the open.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let opts = Options::default();
        // A database of an older format may lack a newer column family: it is opened
        // without it, and the ledger then reports the format.
        let existing = DB::list_cf(&opts, path).map_err(err)?;
        let names = Cf::ALL
            .iter()
            .map(|cf| cf.name())
            .filter(|n| existing.iter().any(|e| e == n));
        let db = DB::open_cf_for_read_only(&opts, path, names, false).map_err(err)?;
        Ok(Self { db })
    }

    fn cf(&self, cf: Cf) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(cf.name())
            .ok_or_else(|| StoreError(format!("column family `{}` is missing", cf.name())))
    }

    /// Direct access for tests that alter the data outside the ledger.
    pub fn raw_put(&self, cf: Cf, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db.put_cf(self.cf(cf)?, key, value).map_err(err)
    }

    /// Direct delete for tests that alter the data outside the ledger.
    pub fn raw_delete(&self, cf: Cf, key: &[u8]) -> Result<(), StoreError> {
        self.db.delete_cf(self.cf(cf)?, key).map_err(err)
    }
}

impl Store for RocksStore {
    fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.cf(cf)?, key).map_err(err)
    }

    fn write(&mut self, ws: WriteSet, sync: bool) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        for (cf, k, v) in &ws.ops {
            let h = self.cf(*cf)?;
            match v {
                Some(v) => batch.put_cf(h, k, v),
                None => batch.delete_cf(h, k),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(batch, &wo).map_err(err)
    }

    fn scan(&self, cf: Cf, visit: &mut Visitor<'_>) -> Result<(), StoreError> {
        for item in self.db.iterator_cf(self.cf(cf)?, IteratorMode::Start) {
            let (k, v) = item.map_err(err)?;
            visit(&k, &v)?;
        }
        Ok(())
    }

    fn keys_with_prefix(
        &self,
        cf: Cf,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mode = IteratorMode::From(prefix, rocksdb::Direction::Forward);
        let mut keys = Vec::new();
        for item in self.db.iterator_cf(self.cf(cf)?, mode) {
            let (k, _) = item.map_err(err)?;
            if !k.starts_with(prefix) || keys.len() == limit {
                break;
            }
            keys.push(k.to_vec());
        }
        Ok(keys)
    }

    fn last(&self, cf: Cf) -> Result<Option<KeyValue>, StoreError> {
        match self.db.iterator_cf(self.cf(cf)?, IteratorMode::End).next() {
            Some(item) => {
                let (k, v) = item.map_err(err)?;
                Ok(Some((k.to_vec(), v.to_vec())))
            }
            None => Ok(None),
        }
    }
}
