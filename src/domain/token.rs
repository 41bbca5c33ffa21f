//! The rules of auth tickets and refresh tokens, decided from what is stored. Both stores read
//! the rows under their locks and ask these functions; what the answer means for the rows
//! (consume the ticket, rotate the refresh token) is theirs to write.

use super::AppId;

/// How long a superseded refresh token stays usable: the web SDK refreshes from its page and
/// from a worker at once, and without the grace one of them would be told "invalid" and log
/// the user out.
pub const REFRESH_GRACE_MS: i64 = 60_000;

/// Why a ticket or token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Unknown, revoked or already used.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Issued for another app.
    OtherApp,
}

/// What exchanging a found ticket does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketUse {
    /// Another app's ticket: refused, and left for its own app.
    OtherApp,
    /// Used up whether or not it was still valid (single use); `valid: false` refuses it as
    /// expired after consuming it.
    Consume {
        /// Whether the exchange may go on.
        valid: bool,
    },
}

/// The ticket rule: a ticket belongs to one app, and is used once, until its expiry.
pub fn ticket_use(ticket_app: AppId, expires: i64, app: AppId, now: i64) -> TicketUse {
    if ticket_app != app {
        TicketUse::OtherApp
    } else {
        TicketUse::Consume {
            valid: expires >= now,
        }
    }
}

/// A session as a refresh finds it through one of its refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshFound {
    /// The session's app.
    pub app: AppId,
    /// Refresh expiry of the session, Unix ms.
    pub expires: i64,
    /// Whether the session was revoked (logout, revocation).
    pub revoked: bool,
    /// When this refresh token was superseded by a newer one, Unix ms; `0` if it is current.
    pub superseded: i64,
}

/// The refresh rule: a revoked session, or a token superseded longer ago than the grace, is
/// invalid; then the app must match, then the session must not have expired.
pub fn refresh_check(found: RefreshFound, app: AppId, now: i64) -> Result<(), TokenProblem> {
    if found.revoked || (found.superseded != 0 && now - found.superseded > REFRESH_GRACE_MS) {
        return Err(TokenProblem::Invalid);
    }
    if found.app != app {
        return Err(TokenProblem::OtherApp);
    }
    if found.expires < now {
        return Err(TokenProblem::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_its_apps_and_used_up_even_when_expired() {
        assert_eq!(ticket_use(AppId(2), 100, AppId(1), 50), TicketUse::OtherApp);
        assert_eq!(
            ticket_use(AppId(1), 100, AppId(1), 100),
            TicketUse::Consume { valid: true }
        );
        assert_eq!(
            ticket_use(AppId(1), 100, AppId(1), 101),
            TicketUse::Consume { valid: false }
        );
    }

    #[test]
    fn a_superseded_refresh_token_works_for_the_grace_period_only() {
        let found = RefreshFound {
            app: AppId(1),
            expires: 1_000_000,
            revoked: false,
            superseded: 500_000,
        };
        assert_eq!(
            refresh_check(found, AppId(1), 500_000 + REFRESH_GRACE_MS),
            Ok(())
        );
        assert_eq!(
            refresh_check(found, AppId(1), 500_001 + REFRESH_GRACE_MS),
            Err(TokenProblem::Invalid)
        );
        let current = RefreshFound {
            superseded: 0,
            ..found
        };
        assert_eq!(
            refresh_check(current, AppId(2), 0),
            Err(TokenProblem::OtherApp)
        );
        assert_eq!(
            refresh_check(current, AppId(1), 1_000_001),
            Err(TokenProblem::Expired)
        );
        let revoked = RefreshFound {
            revoked: true,
            ..current
        };
        // Revocation wins over every other answer: the SDK logs out on Invalid.
        assert_eq!(
            refresh_check(revoked, AppId(2), 2_000_000),
            Err(TokenProblem::Invalid)
        );
    }
}
