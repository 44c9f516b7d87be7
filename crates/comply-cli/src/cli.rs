//! Command-line syntax. Names here are a contract scripts depend on
//! (`docs/spec/cli.md`): add freely, rename never.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "comply",
    version,
    about = "Compliance frameworks for software supply chains"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Server URL [default: from the config file, else http://127.0.0.1:8080]
    #[arg(
        long,
        env = "COMPLY_SERVER",
        global = true,
        help_heading = "Global options"
    )]
    pub server: Option<String>,
    /// API token [default: from the config file]
    #[arg(
        long,
        env = "COMPLY_TOKEN",
        global = true,
        hide_env_values = true,
        help_heading = "Global options"
    )]
    pub token: Option<String>,
    /// Organization to act in [default: the token's]
    #[arg(
        long,
        env = "COMPLY_ORG",
        global = true,
        help_heading = "Global options"
    )]
    pub org: Option<String>,
    /// Output format
    #[arg(
        short,
        long,
        value_enum,
        default_value_t = Output::Table,
        global = true,
        help_heading = "Global options"
    )]
    pub output: Output,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
    Yaml,
    /// The YAML document `apply` accepts (describe only)
    Schema,
    /// One row per cell with stable columns, for spreadsheets (status of a product only)
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the comply server
    Serve(ServeArgs),
    /// Create or update resources from YAML files or directories (all or nothing)
    Apply(ApplyArgs),
    /// Validate YAML files offline, as `apply` would against an org with only built-ins
    Lint(LintFilesArgs),
    /// Requirements: list, describe, delete, duplicate, activate, deactivate
    #[command(subcommand)]
    Requirement(RequirementCommand),
    /// Frameworks: list, describe, delete, duplicate
    #[command(subcommand)]
    Framework(FrameworkCommand),
    /// Policies: list, describe, delete, and offline eval and lint
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Policy groups: list, describe, delete
    #[command(subcommand, name = "policy-group")]
    PolicyGroup(PolicyGroupCommand),
    /// Workflow contracts: list, describe, delete
    #[command(subcommand)]
    Contract(ContractCommand),
    /// Products: their projects, versions, frameworks and applicability
    #[command(subcommand)]
    Product(ProductCommand),
    /// Trusted keys and CA certificates that attestations must be signed with
    #[command(subcommand)]
    Key(KeyCommand),
    /// Signed attestations: push, list, describe
    #[command(subcommand)]
    Attestation(AttestationCommand),
    /// Projects (created by the first attestation that names them)
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Workflows of projects and the contracts they use
    #[command(subcommand)]
    Workflow(WorkflowCommand),
    /// Craft an attestation locally: init, add materials, push (evaluates policies, signs)
    #[command(subcommand)]
    Attest(AttestCommand),
    /// Evidence packs for auditors: write one (`report PRODUCT`), check one (`report verify PACK`)
    Report(ReportArgs),
    /// What changes soon without anyone acting: grace periods ending, evidence and
    /// proofs expiring, exceptions and overrides expiring
    Deadlines(DeadlinesArgs),
    /// Compliance status of a product version, or of every product (no product given);
    /// `status diff` compares two versions or two times
    #[command(args_conflicts_with_subcommands = true)]
    Status(StatusCommand),
    /// Daily score of a product version between two dates
    History(HistoryArgs),
    /// Manual evidence for requirements' proofs
    #[command(subcommand)]
    Proof(ProofCommand),
    /// Exceptions: a cell leaves the score, with a reason and an optional expiry
    #[command(subcommand)]
    Exception(ExceptionCommand),
    /// Overrides: force a cell's status, with a reason and an optional expiry
    #[command(subcommand)]
    Override(OverrideCommand),
    /// Mark requirements (not) applicable to a product or one of its projects
    #[command(subcommand)]
    Applicability(ApplicabilityCommand),
    /// Organizations and their settings
    #[command(subcommand)]
    Org(OrgCommand),
    /// API tokens of the organization
    #[command(subcommand)]
    Token(TokenCommand),
    /// Webhooks: events POSTed to a URL, signed, retried, with a delivery log
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// The audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reference data policies read: the CISA KEV catalog (import, list)
    #[command(subcommand)]
    ReferenceData(ReferenceDataCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completion(CompletionArgs),
    /// Write man pages for comply and every subcommand into a directory
    #[command(name = "man")]
    Manpage(ManpageArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  comply completion bash > /etc/bash_completion.d/comply\n  comply completion zsh > \"${fpath[1]}/_comply\"\n  comply completion fish > ~/.config/fish/completions/comply.fish"
)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManpageArgs {
    /// Directory to write `comply.1`, `comply-apply.1`, … into (created when missing)
    #[arg(long, default_value = "man")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Directory of the embedded SQLite database
    #[arg(long, default_value = "./comply-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…); several servers may share one database
    #[arg(long, env = "COMPLY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Break-glass: revoke the instance administrator's token, print a new one, and
    /// exit without serving (needs access to the database; audited)
    #[arg(long)]
    pub reset_admin_token: bool,
    /// Do not run the webhook worker on this server (another server on the database
    /// delivers; events are still detected and queued by servers that run it)
    #[arg(long, env = "COMPLY_NO_WEBHOOKS")]
    pub no_webhooks: bool,
    /// Seconds between two looks at posture changes for webhooks (also after evidence
    /// or a decision arrives)
    #[arg(long, env = "COMPLY_WEBHOOK_WATCH_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub webhook_watch_seconds: u64,
    /// Seconds a webhook receiver has to answer
    #[arg(long, env = "COMPLY_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub webhook_timeout_seconds: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A YAML file or a directory (searched recursively for *.yaml and *.yml), or - for standard input; repeatable
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// Validate and show what would change, without changing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Name of a legacy `schemaVersion: v1` contract given as the single file
    /// [default: the file's stem]
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct LintFilesArgs {
    /// A YAML file or a directory (searched recursively for *.yaml and *.yml), or - for standard input; repeatable
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// Name of a legacy `schemaVersion: v1` contract given as the single file
    /// [default: the file's stem]
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct ContractApplyArgs {
    /// The contract's name (a legacy v1 contract has none of its own)
    pub name: String,
    /// The contract file (YAML or JSON; legacy v1 or v2)
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
    /// Validate and show what would change, without changing anything
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only the org's own resources, not the built-in ones
    #[arg(long)]
    pub custom: bool,
}

#[derive(Args, Debug)]
pub struct NameArg {
    pub name: String,
}

#[derive(Args, Debug)]
pub struct DuplicateArgs {
    pub name: String,
    /// Name of the new custom resource
    #[arg(long = "as")]
    pub new_name: String,
}

#[derive(Subcommand, Debug)]
pub enum RequirementCommand {
    /// List requirements (custom and built-in)
    List(ListArgs),
    /// Show one requirement
    Describe(NameArg),
    /// Delete a custom requirement
    Delete(NameArg),
    /// Copy a requirement into a new custom one
    Duplicate(DuplicateArgs),
    /// Evaluate and count the requirement again
    Activate(NameArg),
    /// Stop evaluating the requirement; it leaves every score
    Deactivate(NameArg),
    /// Which projects' contracts implement the requirement's policies
    Coverage(CoverageArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["name", "file"])))]
pub struct CoverageArgs {
    /// A saved requirement
    pub name: Option<String>,
    /// Preview an unsaved requirement from a YAML file
    #[arg(short = 'f', long = "filename")]
    pub file: Option<PathBuf>,
    #[arg(long, value_parser = ["full", "partial", "none"])]
    pub status: Option<String>,
    /// Only projects the requirement is assigned to (through a product's framework)
    #[arg(long, conflicts_with = "unassigned")]
    pub assigned: bool,
    #[arg(long)]
    pub unassigned: bool,
    #[arg(long)]
    pub product: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum FrameworkCommand {
    /// List frameworks (custom and built-in)
    List(ListArgs),
    /// Show one framework and its section tree
    Describe(NameArg),
    /// Delete a custom framework
    Delete(NameArg),
    /// Copy a framework into a new custom one
    Duplicate(DuplicateArgs),
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

impl OnOff {
    pub fn as_bool(self) -> bool {
        self == OnOff::On
    }
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization (instance administrator only)
    Create(NameArg),
    /// List the organizations you can act in
    List,
    /// Show or change the organization's settings
    Settings(SettingsArgs),
}

#[derive(Args, Debug)]
pub struct SettingsArgs {
    #[arg(long, value_enum)]
    pub in_preview_frameworks: Option<OnOff>,
    #[arg(long, value_enum)]
    pub requirements_auto_matching: Option<OnOff>,
    #[arg(long, value_enum)]
    pub allow_unsigned_attestations: Option<OnOff>,
    /// Four eyes: exceptions and overrides take effect only once a second admin or
    /// owner approves them
    #[arg(long, value_enum)]
    pub decision_approval: Option<OnOff>,
    /// Days after its release a reference data catalog (KEV) is called stale
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub reference_data_max_age_days: Option<u32>,
    /// Hosts a policy's `http.send` may reach in `comply attest` (comma-separated;
    /// "" for none, the default). Chainloop's `--policies-allowed-hostnames`
    #[arg(long, value_name = "HOSTS", alias = "policies-allowed-hostnames")]
    pub policy_allowed_hostnames: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once
    Create(TokenCreateArgs),
    /// List tokens (never their secrets)
    List,
    /// Revoke a token
    Revoke { id: String },
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long, value_parser = ["owner", "admin", "member", "viewer"])]
    pub role: String,
    /// Expiry time (RFC 3339)
    #[arg(long)]
    pub expires: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Add a webhook (admin); its signing secret is printed once
    #[command(
        after_help = "Events: cell.failed, grace.ending, exception.expiring, coverage.dropped, product_version.noncompliant\n\nExample:\n  comply webhook add https://hooks.example.com/comply --events cell.failed,grace.ending --horizon 48h"
    )]
    Add(WebhookAddArgs),
    /// List webhooks (never their secrets)
    List,
    /// Remove a webhook (admin); its pending deliveries are not sent
    Remove { id: String },
    /// A webhook's delivery log, newest first
    Deliveries {
        id: String,
        /// At most this many
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Enable a webhook disabled after repeated failures (admin)
    Enable { id: String },
    /// Send a ping event to a webhook (admin)
    Test { id: String },
}

#[derive(Args, Debug)]
pub struct WebhookAddArgs {
    /// Where events are POSTed (http:// or https://)
    pub url: String,
    /// Event kinds, comma-separated
    #[arg(long, value_delimiter = ',', required = true)]
    pub events: Vec<String>,
    /// How far ahead grace.ending and exception.expiring look (90m, 24h, 7d; at most 30d)
    #[arg(long, default_value = "24h")]
    pub horizon: String,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// List events, oldest first
    List(AuditListArgs),
    /// Check that no event was edited or removed
    Verify,
}

#[derive(Args, Debug)]
pub struct AuditListArgs {
    /// Only events at or after this time (RFC 3339)
    #[arg(long)]
    pub since: Option<String>,
    /// Only events about this resource, as KIND/NAME
    #[arg(long)]
    pub target: Option<String>,
    /// Only events before this time (RFC 3339)
    #[arg(long)]
    pub until: Option<String>,
    /// Only events of this actor, e.g. token:ci/ab12cd34ef56ab78
    #[arg(long)]
    pub actor: Option<String>,
    /// Only events of this action; a prefix ending in '.' (product.) selects a family
    #[arg(long)]
    pub action: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// List policies (custom and built-in)
    List(ListArgs),
    /// Show one policy: inputs and scripts
    Describe(NameArg),
    /// Delete a custom policy
    Delete(NameArg),
    /// Copy a built-in or custom policy into a new custom one
    Duplicate(DuplicateArgs),
    /// Evaluate a policy against a material, offline (no server)
    Eval(EvalArgs),
    /// Parse a policy document and compile its Rego
    Lint(LintArgs),
}

#[derive(Subcommand, Debug)]
pub enum PolicyGroupCommand {
    /// List policy groups (custom and built-in)
    List(ListArgs),
    /// Show one policy group
    Describe(NameArg),
    /// Delete a custom policy group
    Delete(NameArg),
    /// Copy a built-in or custom policy group into a new custom one
    Duplicate(DuplicateArgs),
}

#[derive(Subcommand, Debug)]
pub enum ContractCommand {
    /// List contracts
    List,
    /// Show one contract (`-o schema` prints it exactly as applied)
    Describe(NameArg),
    /// Delete a contract
    Delete(NameArg),
    /// Create or update one contract from a file under NAME (as `chainloop workflow
    /// contract create/update --name` does; for legacy v1 contracts)
    Apply(ContractApplyArgs),
}

#[derive(Subcommand, Debug)]
pub enum ProductCommand {
    /// List products
    List,
    /// Show one product: projects, versions, frameworks, applicability
    Describe(NameArg),
    /// Delete a product
    Delete(NameArg),
    /// Create a product (a new revision of the Product document)
    Create(ProductCreateArgs),
    /// Product versions
    #[command(subcommand)]
    Version(ProductVersionCommand),
    /// Attach a framework to a product version
    Attach(AttachArgs),
    /// Detach a framework from a product version
    Detach(AttachArgs),
    /// Add projects to an existing product
    AddProject(AddProjectArgs),
    /// Pin project versions in a product version (`PROJECT=VERSION`; `PROJECT=` unpins)
    Pin(PinArgs),
}

#[derive(Args, Debug)]
pub struct AddProjectArgs {
    pub product: String,
    /// Projects to add
    #[arg(required = true)]
    pub projects: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PinArgs {
    pub product: String,
    #[arg(long)]
    pub version: String,
    /// `PROJECT=VERSION` to pin, `PROJECT=` to follow the project's latest version again
    #[arg(required = true)]
    pub pins: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ProductVersionRef {
    pub product: String,
    pub version: String,
}

#[derive(Args, Debug)]
pub struct ProductCreateArgs {
    pub name: String,
    /// A project of the product; repeatable
    #[arg(long = "project")]
    pub projects: Vec<String>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ProductVersionCommand {
    /// Add a version to a product
    Create(ProductVersionArgs),
    /// List a product's versions with their frameworks and pins
    List(NameArg),
    /// Remove a version from a product
    Delete(ProductVersionRef),
}

#[derive(Args, Debug)]
pub struct ProductVersionArgs {
    pub product: String,
    pub version: String,
    /// A framework to attach; repeatable
    #[arg(long = "framework")]
    pub frameworks: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    pub product: String,
    #[arg(long)]
    pub version: String,
    pub framework: String,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A policy file (YAML, kind Policy) or the name of a built-in policy
    #[arg(short = 'p', long, default_value = "policy.yaml")]
    pub policy: String,
    /// The material to evaluate
    #[arg(long)]
    pub material: PathBuf,
    /// The material's type, e.g. SBOM_CYCLONEDX_JSON [default: the policy's only kind, else detected]
    #[arg(long)]
    pub kind: Option<String>,
    /// The CISA KEV catalog (JSON), for policies that read data.kev
    #[arg(long)]
    pub kev: Option<PathBuf>,
    /// A VEX document (OpenVEX, CSAF, CycloneDX) whose statements apply; repeatable
    #[arg(long)]
    pub vex: Vec<PathBuf>,
    /// A policy argument, KEY=VALUE; repeatable
    #[arg(long = "input", value_name = "KEY=VALUE")]
    pub inputs: Vec<String>,
    /// A material annotation, KEY=VALUE (comma-separated pairs too); repeatable
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_delimiter = ',')]
    pub annotations: Vec<String>,
    /// Project the evaluation is for (accepted as Chainloop's; recorded, not used by
    /// comply's engine)
    #[arg(long)]
    pub project: Option<String>,
    /// Project version the evaluation is for (as --project)
    #[arg(long = "project-version")]
    pub project_version: Option<String>,
    /// Hosts the policy's `http.send` may reach (comma-separated or repeated; none by
    /// default). The result then says it was networked: it depends on what they answer
    #[arg(long = "allowed-hostnames", value_name = "HOST", value_delimiter = ',')]
    pub allowed_hostnames: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// A policy file (YAML, kind Policy) or a bare Rego module (.rego)
    #[arg(short = 'p', long, default_value = "policy.yaml")]
    pub policy: PathBuf,
    /// Accepted as Chainloop's `--format`; comply has no Rego formatter and says so
    #[arg(long)]
    pub format: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Trust a public key (Ed25519 or ECDSA P-256, PEM) or a CA certificate
    Add(KeyAddArgs),
    /// List trusted keys
    List,
    /// Stop trusting a key
    Remove(NameArg),
    /// Write a new key pair: PREFIX.key (private, PKCS#8 PEM) and PREFIX.pub
    Generate(KeyGenerateArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("material").required(true).args(["public_key", "ca_cert", "cert"])))]
pub struct KeyAddArgs {
    pub name: String,
    /// A PEM public key file (cosign.pub works)
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// A PEM CA certificate, or a bundle of several (a CA chain): every leaf they issued
    /// is trusted, checked at signing time. A bundle's certificates are added as NAME,
    /// NAME-2, NAME-3, …
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    /// A PEM leaf certificate whose public key is trusted (no openssl needed)
    #[arg(long)]
    pub cert: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithmArg {
    Ed25519,
    P256,
}

#[derive(Args, Debug)]
pub struct KeyGenerateArgs {
    /// Path prefix of the two files
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = KeyAlgorithmArg::Ed25519)]
    pub algorithm: KeyAlgorithmArg,
}

#[derive(Subcommand, Debug)]
pub enum AttestationCommand {
    /// Push a DSSE envelope or Sigstore bundle
    Push(AttestationPushArgs),
    /// List stored attestations, newest first
    List(AttestationListArgs),
    /// Show one attestation and its policy evaluations
    Describe(DigestArg),
    /// Supply the policy evaluations an attestation references (policyEvaluationsRef)
    /// but did not carry: the bundle is checked against the reference's digest
    AttachEvaluations(AttachEvaluationsArgs),
}

#[derive(Args, Debug)]
pub struct AttachEvaluationsArgs {
    pub digest: String,
    /// The policy-evaluation bundle (Chainloop's policy-evaluations.json)
    #[arg(long)]
    pub policy_evaluations: PathBuf,
}

#[derive(Args, Debug)]
pub struct AttestationPushArgs {
    pub file: PathBuf,
    /// The policy-evaluation bundle the attestation references (policyEvaluationsRef)
    #[arg(long)]
    pub policy_evaluations: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AttestationListArgs {
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    /// At most this many, newest first (at most 10,000)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Continue after this attestation (the digest the previous page ended with)
    #[arg(long)]
    pub after: Option<String>,
}

#[derive(Args, Debug)]
pub struct DigestArg {
    pub digest: String,
}

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// List projects and their versions
    List,
    /// Show a project: versions (latest, released), workflows
    Describe(NameArg),
    /// A project version's status under every product and framework that reach it
    Status(ProjectStatusArgs),
    /// Pin the version `latest` resolves to, or follow the newest attestation again
    Pin(ProjectPinArgs),
    /// Mark a project version released (versions are prereleases until then)
    Release(ProjectReleaseArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("pin").required(true).args(["version", "unpin"])))]
pub struct ProjectPinArgs {
    pub name: String,
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long)]
    pub unpin: bool,
}

#[derive(Args, Debug)]
pub struct ProjectReleaseArgs {
    pub name: String,
    pub version: String,
}

#[derive(Args, Debug)]
pub struct ProjectStatusArgs {
    pub name: String,
    /// [default: the project's latest version]
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long)]
    pub at: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum WorkflowCommand {
    /// Create a workflow, or set the contract of an existing one
    Create(WorkflowCreateArgs),
    /// List workflows
    List(WorkflowListArgs),
}

#[derive(Args, Debug)]
pub struct WorkflowCreateArgs {
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub contract: String,
}

#[derive(Args, Debug)]
pub struct WorkflowListArgs {
    #[arg(long)]
    pub project: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AttestCommand {
    /// Start an attestation for a contract (an applied name or a file)
    Init(AttestInitArgs),
    /// Add a material: a file, or an image reference for CONTAINER_IMAGE
    Add(AttestAddArgs),
    /// Evaluate the contract's policies, sign, and push; exit 1 on a gated violation
    Push(AttestPushArgs),
    /// Show the attestation being crafted
    Status,
}

#[derive(Args, Debug)]
pub struct AttestInitArgs {
    /// Contract name (fetched from the server) or a contract YAML file
    #[arg(long)]
    pub contract: String,
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub version: String,
    #[arg(long)]
    pub workflow: Option<String>,
    /// Mark the project version as released (default: prerelease)
    #[arg(long)]
    pub release: bool,
    /// Where the crafting state lives
    #[arg(
        long,
        env = "COMPLY_ATTEST_STATE",
        default_value = ".comply-attestation.json"
    )]
    pub state: PathBuf,
}

#[derive(Args, Debug)]
pub struct AttestAddArgs {
    /// Material name in the contract
    #[arg(long)]
    pub name: String,
    /// A file path, or for CONTAINER_IMAGE an image reference with digest
    #[arg(long)]
    pub value: String,
    /// Material type (default: the contract's, else detected)
    #[arg(long)]
    pub kind: Option<String>,
    /// A container image's signature: a DSSE envelope or Sigstore bundle whose signed
    /// payload names the image digest (in-toto subject or cosign simple signing)
    #[arg(long, requires = "signature_key")]
    pub signature: Option<PathBuf>,
    /// The public key (PEM) the signature must verify with
    #[arg(long)]
    pub signature_key: Option<PathBuf>,
    #[arg(
        long,
        env = "COMPLY_ATTEST_STATE",
        default_value = ".comply-attestation.json"
    )]
    pub state: PathBuf,
}

#[derive(Args, Debug)]
pub struct AttestPushArgs {
    /// Private key (PKCS#8 PEM, Ed25519 or P-256) to sign with
    #[arg(long)]
    pub key: PathBuf,
    /// Write the signed envelope here too
    #[arg(long)]
    pub output_envelope: Option<PathBuf>,
    #[arg(
        long,
        env = "COMPLY_ATTEST_STATE",
        default_value = ".comply-attestation.json"
    )]
    pub state: PathBuf,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Product name; omit for the org overview
    pub product: Option<String>,
    /// Product version [default: the last one listed]
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long)]
    pub framework: Option<String>,
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub requirement: Option<String>,
    /// Compute the status at this time (RFC 3339) [default: now]
    #[arg(long)]
    pub at: Option<String>,
    /// Name the deciding evidence, decision and deadline of each cell
    #[arg(long)]
    pub explain: bool,
    /// Exit 1 when the product version is not compliant
    #[arg(long)]
    pub fail_on_noncompliant: bool,
    /// Show every column in full (the default table fits 120 columns)
    #[arg(long)]
    pub wide: bool,
}

#[derive(Args, Debug)]
pub struct StatusCommand {
    #[command(subcommand)]
    pub diff: Option<StatusSubcommand>,
    #[command(flatten)]
    pub args: StatusArgs,
}

#[derive(Subcommand, Debug)]
pub enum StatusSubcommand {
    /// Which cells differ between two product versions, or one version at two times,
    /// and why (a product named `diff` is reached with `status --version V diff`)
    Diff(StatusDiffArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  comply status diff portal --version 2.3 --to 2.4\n  comply status diff portal --version 2.4 --at 2026-11-01 --to-at 2026-12-01"
)]
pub struct StatusDiffArgs {
    pub product: String,
    /// The version compared from [default: the last one listed]
    #[arg(long)]
    pub version: Option<String>,
    /// The version compared to [default: the same version]
    #[arg(long)]
    pub to: Option<String>,
    /// The time of the first side (RFC 3339 or a date) [default: now]
    #[arg(long)]
    pub at: Option<String>,
    /// The time of the second side [default: the first side's]
    #[arg(long)]
    pub to_at: Option<String>,
    #[arg(long)]
    pub framework: Option<String>,
    #[arg(long)]
    pub project: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct CellArgs {
    #[arg(long)]
    pub product: String,
    #[arg(long)]
    pub version: String,
    /// For project-scoped requirements
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub requirement: String,
}

#[derive(Subcommand, Debug)]
pub enum ProofCommand {
    /// Submit a file, URL or text for one of a requirement's manual proofs
    Submit(ProofSubmitArgs),
    /// List the proofs of a product version
    List(ProductVersionFilter),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("evidence").required(true).args(["file", "url", "text"])))]
pub struct ProofSubmitArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// The proof's name in the requirement
    #[arg(long)]
    pub proof: String,
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub text: Option<String>,
    /// When the evidence was collected (RFC 3339) [default: now]
    #[arg(long)]
    pub collected_at: Option<String>,
}

#[derive(Args, Debug)]
pub struct ProductVersionFilter {
    #[arg(long)]
    pub product: String,
    #[arg(long)]
    pub version: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ExceptionCommand {
    /// Grant an exception (ends the cell's active override)
    Create(DecisionArgs),
    /// List exceptions
    List(DecisionListArgs),
    /// Revoke an exception (or withdraw one waiting for approval)
    Revoke(IdArg),
    /// Approve an exception another admin or owner requested (four eyes)
    Approve(IdArg),
    /// Reject an exception waiting for approval
    Reject(IdArg),
}

#[derive(Subcommand, Debug)]
pub enum OverrideCommand {
    /// Force a cell's status (ends the cell's active exception)
    Set(OverrideArgs),
    /// List overrides
    List(DecisionListArgs),
    /// Clear an override (or withdraw one waiting for approval)
    Clear(IdArg),
    /// Approve an override another admin or owner requested (four eyes)
    Approve(IdArg),
    /// Reject an override waiting for approval
    Reject(IdArg),
}

#[derive(Args, Debug)]
pub struct DecisionArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    #[arg(long)]
    pub reason: String,
    /// RFC 3339
    #[arg(long)]
    pub expires: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForcedStatus {
    Passed,
    Failed,
}

#[derive(Args, Debug)]
pub struct OverrideArgs {
    #[command(flatten)]
    pub decision: DecisionArgs,
    #[arg(long, value_enum)]
    pub status: ForcedStatus,
}

#[derive(Args, Debug)]
pub struct DecisionListArgs {
    #[arg(long)]
    pub product: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
}

#[derive(Args, Debug)]
pub struct IdArg {
    pub id: String,
}

#[derive(Subcommand, Debug)]
pub enum ApplicabilityCommand {
    /// Record whether a requirement applies to a product (or one of its projects)
    Set(ApplicabilitySetArgs),
    /// List a product's applicability entries
    List(ApplicabilityListArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("choice").required(true).args(["not_applicable", "applicable"])))]
pub struct ApplicabilitySetArgs {
    #[arg(long)]
    pub product: String,
    #[arg(long)]
    pub requirement: String,
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub not_applicable: bool,
    #[arg(long)]
    pub applicable: bool,
    #[arg(long)]
    pub rationale: Option<String>,
}

#[derive(Args, Debug)]
pub struct ApplicabilityListArgs {
    #[arg(long)]
    pub product: String,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    pub product: String,
    #[arg(long)]
    pub version: Option<String>,
    /// RFC 3339
    #[arg(long)]
    pub from: String,
    /// RFC 3339
    #[arg(long)]
    pub to: String,
}

#[derive(Subcommand, Debug)]
pub enum ReferenceDataCommand {
    /// Import a catalog: `kev FILE` (CISA's known_exploited_vulnerabilities.json)
    Import(ReferenceDataImportArgs),
    /// The catalogs the org uses, with their dates (its own and the instance's)
    List,
}

#[derive(Args, Debug)]
pub struct ReferenceDataImportArgs {
    /// The kind of reference data: kev
    pub kind: String,
    pub file: PathBuf,
    /// For every org of the instance (bootstrap owner only), not only this org
    #[arg(long)]
    pub instance: bool,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// The product
    #[arg(required = true)]
    pub product: Option<String>,
    /// The product version (default: its latest)
    #[arg(long)]
    pub version: Option<String>,
    /// Limit the posture to one attached framework
    #[arg(long)]
    pub framework: Option<String>,
    /// The posture at this time (RFC 3339; default: now)
    #[arg(long)]
    pub at: Option<String>,
    /// Where to write the pack: a new directory, or a file ending in .zip
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// `pack`: the evidence pack; `oscal`: only its OSCAL Assessment Results (JSON file)
    #[arg(long, value_enum, default_value_t = ReportFormat::Pack)]
    pub format: ReportFormat,
    /// Sign the manifest with this private key (PEM, e.g. from `comply key generate`)
    /// instead of the server's instance key
    #[arg(long)]
    pub key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Check a pack from its files alone: the manifest's signature and digests, every
    /// envelope's signature, proofs, the audit chain, and the posture recomputed
    Verify(ReportVerifyArgs),
}

#[derive(Args, Debug)]
pub struct ReportVerifyArgs {
    /// The pack: a directory or a .zip file
    pub pack: PathBuf,
    /// Require the manifest to be signed by this public key (PEM), e.g. the server's
    /// from `GET /api/v1/report-key`
    #[arg(long)]
    pub signer: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DeadlinesArgs {
    /// How far ahead to look: 90m, 48h, 7d, 2w
    #[arg(long, default_value = "7d")]
    pub within: String,
    /// Only this product
    #[arg(long)]
    pub product: Option<String>,
    /// Look ahead from this time (RFC 3339; default: now)
    #[arg(long)]
    pub at: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Pack,
    Oscal,
}
