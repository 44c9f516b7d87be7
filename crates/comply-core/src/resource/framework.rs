use super::Metadata;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framework {
    pub metadata: Metadata,
    pub spec: FrameworkSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FrameworkSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementRef {
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
}

impl FrameworkSpec {
    /// Every requirement reference, root list first, then sections depth-first.
    pub fn all_refs(&self) -> impl Iterator<Item = &RequirementRef> {
        let mut refs: Vec<&RequirementRef> = self.requirements.iter().collect();
        fn walk<'a>(sections: &'a [Section], out: &mut Vec<&'a RequirementRef>) {
            for s in sections {
                out.extend(s.requirements.iter());
                walk(&s.sections, out);
            }
        }
        walk(&self.sections, &mut refs);
        refs.into_iter()
    }
}

impl Section {
    /// Requirements in this section and all its subsections.
    pub fn count(&self) -> usize {
        self.requirements.len() + self.sections.iter().map(Section::count).sum::<usize>()
    }
}
