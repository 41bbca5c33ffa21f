//! The domain's ID types bound and read as SQLite integers, so statements take and rows give
//! a `UserId` or a `RoomId` and never a bare integer that could be the other.

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::domain::{AppId, MessageId, RoomId, UserId};

macro_rules! sqlite_integer {
    ($($id:ident),*) => {$(
        impl ToSql for $id {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }

        impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($id)
            }
        }
    )*};
}

sqlite_integer!(AppId, UserId, RoomId, MessageId);
