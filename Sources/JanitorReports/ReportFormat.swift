import JanitorCore

/// The output formats of `--format`, and the one place that maps each to its formatter.
///
/// Adding a case makes the compiler list every `switch` below that must learn it.
///
/// Which report takes which format:
///
/// | report    | text | json | ndjson | markdown | junit |
/// |-----------|------|------|--------|----------|-------|
/// | scan      | yes  | yes  | yes    | yes      | yes   |
/// | usage     | yes  | yes  | yes    | yes      | no    |
/// | history   | yes  | yes  | yes    | yes      | no    |
/// | check     | yes  | yes  | yes    | yes      | yes   |
/// | retention | yes  | yes  | yes    | yes      | yes   |
///
/// JUnit describes pass/fail cases, and usage and history have nothing that passes or fails,
/// so those two throw ``ReportError/unsupportedFormat(_:report:)``, whose message names the
/// formats that work. Use ``ReportKind/supportedFormats`` to validate `--format` before doing
/// the work.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// A readable report for a terminal.
    case text
    /// One JSON document, `"schema": 1` first; the stable, documented format.
    case json
    /// One JSON object per line: a header line, then one line per item.
    case ndjson
    /// GitHub-flavoured Markdown, for a CI job summary or a pull-request comment.
    case markdown
    /// A JUnit XML document for CI test reports.
    case junit

    /// The conventional file extension, without the leading dot (`txt`, `json`, `junit.xml`...).
    public var fileExtension: String {
        switch self {
        case .text: "txt"
        case .json: "json"
        case .ndjson: "ndjson"
        case .markdown: "md"
        case .junit: "junit.xml"
        }
    }

    /// Renders a scan report; every format applies.
    public func render(_ report: ScanReport, options: RenderOptions = RenderOptions()) -> String {
        switch self {
        case .text: TextFormatter(options: options).format(report)
        case .json: JSONFormatter().format(report)
        case .ndjson: NDJSONFormatter().format(report)
        case .markdown: MarkdownFormatter(options: options).format(report)
        case .junit: JUnitFormatter().format(report)
        }
    }

    /// Renders a usage report; throws for `junit`.
    public func render(
        _ report: UsageReport, options: RenderOptions = RenderOptions()
    ) throws(ReportError) -> String {
        switch self {
        case .text: TextFormatter(options: options).format(report)
        case .json: JSONFormatter().format(report)
        case .ndjson: NDJSONFormatter().format(report)
        case .markdown: MarkdownFormatter(options: options).format(report)
        case .junit: throw ReportError.unsupportedFormat(self, report: .usage)
        }
    }

    /// Renders the audit history; throws for `junit`.
    public func render(
        _ report: HistoryReport, options: RenderOptions = RenderOptions()
    ) throws(ReportError) -> String {
        switch self {
        case .text: TextFormatter(options: options).format(report)
        case .json: JSONFormatter().format(report)
        case .ndjson: NDJSONFormatter().format(report)
        case .markdown: MarkdownFormatter(options: options).format(report)
        case .junit: throw ReportError.unsupportedFormat(self, report: .history)
        }
    }

    /// Renders a check report; every format applies (JUnit fails one case per error).
    public func render(
        _ report: CheckReport, options: RenderOptions = RenderOptions()
    ) throws(ReportError) -> String {
        switch self {
        case .text: TextFormatter(options: options).format(report)
        case .json: JSONFormatter().format(report)
        case .ndjson: NDJSONFormatter().format(report)
        case .markdown: MarkdownFormatter(options: options).format(report)
        case .junit: JUnitFormatter().format(report)
        }
    }

    /// Renders a retention report; every format applies (JUnit fails the classes whose plan
    /// crosses a safety limit).
    public func render(_ report: RetentionReport, options: RenderOptions = RenderOptions()) -> String {
        switch self {
        case .text: TextFormatter(options: options).format(report)
        case .json: JSONFormatter().format(report)
        case .ndjson: NDJSONFormatter().format(report)
        case .markdown: MarkdownFormatter(options: options).format(report)
        case .junit: JUnitFormatter().format(report)
        }
    }

    /// Whether this format can render a kind of report.
    public func supports(_ kind: ReportKind) -> Bool {
        // JUnit lists every kind, so that a new kind must decide whether it has pass/fail cases.
        switch (self, kind) {
        case (.junit, .usage), (.junit, .history): false
        case (.junit, .scan), (.junit, .check), (.junit, .retention): true
        case (.text, _), (.json, _), (.ndjson, _), (.markdown, _): true
        }
    }
}

/// The reports that can be rendered, for asking which formats apply before doing the work.
public enum ReportKind: String, CaseIterable, Sendable {
    /// ``ScanReport``, from `scan`.
    case scan
    /// ``UsageReport``, from `usage`.
    case usage
    /// ``HistoryReport``, from `history`.
    case history
    /// ``CheckReport``, from `check`.
    case check
    /// ``RetentionReport``, from `retention`.
    case retention

    /// The formats that can render this report, in declaration order.
    public var supportedFormats: [ReportFormat] {
        ReportFormat.allCases.filter { $0.supports(self) }
    }
}

/// What a formatter can fail with.
public enum ReportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The format cannot express this kind of report.
    case unsupportedFormat(ReportFormat, report: ReportKind)

    /// The message for the user, naming the formats that work.
    public var description: String {
        switch self {
        case .unsupportedFormat(let format, let report):
            let names = report.supportedFormats.map(\.rawValue)
            let list = names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + (names.last ?? "")
            return "the \(report.rawValue) report cannot be written as \(format.rawValue); use --format \(list)"
        }
    }
}

/// Choices that change how the human-readable formats look. JSON, NDJSON and JUnit always
/// carry everything and ignore them.
public struct RenderOptions: Sendable, Hashable {
    /// How many rows text and Markdown show per findings kind, per directory or owner table, and
    /// per class of selected retention rows, before saying how many more there are. Zero or
    /// less shows only the counts.
    public var top: Int
    /// Whether text output uses ANSI colours and bold; decide from `isatty` and `NO_COLOR`.
    public var color: Bool

    /// Creates options: 20 rows, no colour.
    public init(top: Int = 20, color: Bool = false) {
        self.top = top
        self.color = color
    }
}
