//! The domain's ID types bound and read as PostgreSQL `bigint`s, so statements take and rows
//! give a `UserId` or a `RoomId` and never a bare integer that could be the other.

use bytes::BytesMut;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::domain::{AppId, MessageId, RoomId, UserId};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

macro_rules! postgres_bigint {
    ($($id:ident),*) => {$(
        impl ToSql for $id {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                self.0.to_sql(ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                <i64 as ToSql>::accepts(ty)
            }

            to_sql_checked!();
        }

        impl<'a> FromSql<'a> for $id {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                i64::from_sql(ty, raw).map($id)
            }

            fn accepts(ty: &Type) -> bool {
                <i64 as FromSql>::accepts(ty)
            }
        }
    )*};
}

postgres_bigint!(AppId, UserId, RoomId, MessageId);
