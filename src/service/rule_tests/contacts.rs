//! The contact sync rule (`service/users.rs`).

use super::{APP, MemoryTx, run_now};
use crate::service::users::sync_contacts;
use crate::store::{ContactOp, StoreError};

fn op(owner: &str, contact: &str, deleted: bool) -> ContactOp {
    ContactOp {
        owner_xc_user_id: owner.into(),
        contact_xc_user_id: contact.into(),
        deleted,
    }
}

#[test]
fn additions_run_before_deletions_and_each_pair_counts_once() {
    let mut tx = MemoryTx::default();
    let ann = tx.user(APP, "ann");
    tx.user(APP, "bob");
    let cat = tx.user(APP, "cat");
    let ops = vec![
        op("ann", "bob", true),
        op("ann", "bob", false),
        op("ann", "cat", false),
        op("ann", "cat", false),
    ];
    let counts = run_now(sync_contacts(&mut tx, APP, ops)).unwrap();
    assert_eq!((counts.inserted, counts.deleted), (2, 1));
    assert_eq!(tx.contacts, [(ann.id, cat.id)]);
    // One-way: cat's list is untouched.
    assert!(!tx.contacts.contains(&(cat.id, ann.id)));
}

#[test]
fn one_unknown_user_fails_the_whole_sync_and_changes_nothing() {
    let mut tx = MemoryTx::default();
    tx.user(APP, "ann");
    tx.user(APP, "bob");
    let ops = vec![op("ann", "bob", false), op("ann", "ghost", false)];
    assert_eq!(
        run_now(sync_contacts(&mut tx, APP, ops)),
        Err(StoreError::UnknownUser("ghost".into()))
    );
    assert!(tx.contacts.is_empty());
}
