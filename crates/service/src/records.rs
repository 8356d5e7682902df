//! Rules (case decision criteria) and performance records under a plan: created by their
//! first write, changed with their settings validated against what is stored, and the version
//! history of a criterion.

use caseload_domain::analytics::PerformanceSettings;
use caseload_domain::criterion::CriterionSettings;
use caseload_domain::{
    ChildKind, ChildRecord, Fields, Page, PageRequest, PageSize, PlanId, RecordId, RecordKind,
    RecordVersion, Version, WriteMode, page::MAX_PAGE_SIZE,
};
use caseload_store::StoreError;
use serde_json::{Map, Value};

use crate::plans::retry_on_race;
use crate::views::RecordView;
use crate::{Service, ServiceError, WriteRequest, criteria, stored};

/// The extension properties a rule's or performance record's settings are read from.
pub fn settings_properties(kind: ChildKind) -> &'static [&'static str] {
    match kind {
        ChildKind::Rules => CriterionSettings::PROPERTIES,
        ChildKind::Performance => PerformanceSettings::PROPERTIES,
    }
}

/// A record after a write, and whether the write created it.
#[derive(Debug, Clone)]
pub struct Written {
    /// The record as shown.
    pub view: RecordView,
    /// Whether this write created it.
    pub created: bool,
}

/// One version of a criterion in its history.
#[derive(Debug, Clone)]
pub struct CriterionVersion {
    /// The version as stored.
    pub version: RecordVersion,
    /// Its settings.
    pub settings: CriterionSettings,
    /// What changed from the version before it: setting and property names, or `created`
    /// for the first version; empty when the version before is not on the page.
    pub changed: Vec<String>,
}

impl Service {
    /// Creates or changes a rule or performance record. A criterion's machine settings
    /// (`Expression`, `Parameters`, ...) are validated together with what is stored, and
    /// written only if the record is still at the version they were validated against.
    pub async fn put_record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        body: &Map<String, Value>,
        write: &WriteRequest,
    ) -> Result<Written, ServiceError> {
        let extensions = settings_properties(kind);
        let fields = Fields::parse(kind.record_kind(), body, extensions)?;
        let touches_settings = body.keys().any(|k| extensions.contains(&k.as_str()));
        let put = if !touches_settings {
            let extensions = (write.mode == WriteMode::Replace).then(Map::new);
            let change = write.change(fields, extensions);
            write
                .actor
                .scoped(self.db.put_record(kind, plan, id, change))
                .await?
        } else {
            retry_on_race(write, || async {
                let current = match self.db.record(kind, plan, id.clone()).await {
                    Ok(record) => Some(record),
                    Err(StoreError::NotFound(_)) => {
                        // Refuse a write under an unknown plan as such, not as a settings
                        // problem.
                        self.db.plan(plan).await?;
                        None
                    }
                    Err(err) => return Err(err.into()),
                };
                let settings = match kind {
                    ChildKind::Rules => {
                        criteria::settings_after(current.as_ref(), body, write.mode)?.to_json()
                    }
                    ChildKind::Performance => {
                        performance_settings_after(current.as_ref(), body, write.mode)?
                    }
                };
                let expected = write.expected.or(current.as_ref().map(|r| r.meta.version));
                let mut change = write.change(fields.clone(), Some(settings));
                change.expected = expected;
                Ok(write
                    .actor
                    .scoped(self.db.put_record(kind, plan, id.clone(), change))
                    .await)
            })
            .await?
        };
        Ok(Written {
            view: self.record_view(put.record).await?,
            created: put.created,
        })
    }

    /// A page of a criterion's versions, newest first, each with what changed from the one
    /// before. The page token is the version the page continues below.
    pub async fn criterion_versions(
        &self,
        plan: PlanId,
        rules: RecordId,
        mut request: PageRequest,
    ) -> Result<Page<CriterionVersion>, ServiceError> {
        if request
            .after
            .as_deref()
            .is_some_and(|a| !is_version_token(a))
        {
            return Err(ServiceError::invalid_property(
                "page_token",
                "page_token is not valid",
            ));
        }
        // One extra version is read so the oldest one shown can be compared with its
        // predecessor.
        let size = request.size.get() as usize;
        request.size = PageSize::parse(Some((request.size.get() + 1).min(MAX_PAGE_SIZE)))?;
        let page = self
            .db
            .record_versions(ChildKind::Rules, plan, rules, request)
            .await?;
        let settings = page
            .items
            .iter()
            .map(stored::criterion_settings_of_version)
            .collect::<Result<Vec<_>, _>>()?;
        let more = page.items.len() > size || page.next_after.is_some();
        let mut items = Vec::with_capacity(size.min(page.items.len()));
        for (i, version) in page.items.iter().take(size).enumerate() {
            let mut changed = Vec::new();
            match page.items.get(i + 1) {
                Some(before) => {
                    changed.extend(settings[i + 1].changes(&settings[i]));
                    for name in RecordKind::Rules.field_names() {
                        if before.fields.get(name) != version.fields.get(name) {
                            changed.push((*name).to_owned());
                        }
                    }
                }
                None if version.version == Version::FIRST => changed.push("created".to_owned()),
                None => {}
            }
            items.push(CriterionVersion {
                version: version.clone(),
                settings: settings[i].clone(),
                changed,
            });
        }
        let next_after = if more {
            items.last().map(|v| v.version.version.get().to_string())
        } else {
            None
        };
        Ok(Page { items, next_after })
    }
}

/// A page token of a version list: the version the page continues below, 1 to 9 digits
/// (as the OpenAPI document says).
fn is_version_token(token: &str) -> bool {
    (1..=9).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit())
}

/// A Performance record's window and breakdown after a write: patched into the stored ones
/// (merge) or as given (replace, or a new record).
fn performance_settings_after(
    current: Option<&ChildRecord>,
    body: &Map<String, Value>,
    mode: WriteMode,
) -> Result<Map<String, Value>, ServiceError> {
    let next = match (mode, current) {
        (WriteMode::Merge, Some(record)) => stored::performance_settings(record)?.patched(body),
        _ => PerformanceSettings::from_json(body),
    };
    next.map(|s| s.to_json())
        .map_err(|e| ServiceError::invalid(e.to_string()))
}
