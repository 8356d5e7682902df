//! Pagination of lists: a bounded page size and an opaque position after which to go on.

/// Default number of items in a page.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A page size within `1..=MAX_PAGE_SIZE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The size is outside the allowed range.
    #[error("page_size must be between 1 and {MAX_PAGE_SIZE}")]
    Size,
    /// The token was not issued by this service.
    #[error("page_token is not valid")]
    Token,
}

impl PageSize {
    /// Validates a requested size; `None` gives the default.
    pub fn parse(requested: Option<u32>) -> Result<Self, PageError> {
        match requested {
            None => Ok(Self(DEFAULT_PAGE_SIZE)),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(Self(n)),
            Some(_) => Err(PageError::Size),
        }
    }

    /// The size.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Which page of a list to return: items strictly after `after` in the list's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The sort key of the last item of the previous page.
    pub after: Option<String>,
    /// How many items at most.
    pub size: PageSize,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// The sort key to continue after, when there may be more.
    pub next_after: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_page_size_gives_the_default() {
        assert_eq!(
            PageSize::parse(None).map(PageSize::get),
            Ok(DEFAULT_PAGE_SIZE)
        );
    }

    #[test]
    fn page_sizes_outside_the_range_are_rejected() {
        assert_eq!(PageSize::parse(Some(0)), Err(PageError::Size));
        assert_eq!(
            PageSize::parse(Some(MAX_PAGE_SIZE + 1)),
            Err(PageError::Size)
        );
        assert!(PageSize::parse(Some(MAX_PAGE_SIZE)).is_ok());
    }
}
