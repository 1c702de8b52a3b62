import Foundation
import JanitorCore

/// Reads back the scan report ``JSONFormatter`` writes, so that `history merge` can put the
/// reports of `scan --shard I/N` together.
///
/// Every key the formatter writes is read with the formatter's meaning; a key it always writes
/// and that is absent is an error, one it omits when nil (`path`, `value`, `class`, `bytes`,
/// `mtime`, `reason`, `referenced_by`, `shard`) may be absent, and keys it does not know are
/// ignored. `"schema"` must be 1. Formatting then decoding gives back the same report.
///
/// ```swift
/// let report = try JSONReportDecoder().scanReport(from: Data(contentsOf: url))
/// ```
public struct JSONReportDecoder: Sendable {
    /// Creates the decoder.
    public init() {}

    /// The scan report in `data`.
    public func scanReport(from data: Data) throws(ReportDecodingError) -> ScanReport {
        do {
            return try JSONDecoder().decode(DecodedScanReport.self, from: data).report
        } catch let error as ReportDecodingError {
            throw error
        } catch let error as DecodingError {
            throw ReportDecodingError(error)
        } catch {
            throw .notJSON(reason: "\(error)")
        }
    }
}

/// Why a file is not a scan report this version can read; the message says what to pass.
public enum ReportDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes are not one JSON document.
    case notJSON(reason: String)
    /// A report of another schema.
    case unsupportedSchema(Int)
    /// JSON, but not a scan report: `reason` names the key.
    case notScanReport(reason: String)

    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self = .notScanReport(reason: "it has no '\(Self.path(context.codingPath + [key]))'")
        case .valueNotFound(_, let context):
            self = .notScanReport(reason: "'\(Self.path(context.codingPath))' is null")
        case .typeMismatch(let type, let context):
            self = context.codingPath.isEmpty
                ? .notScanReport(reason: "it is not a JSON object")
                : .notScanReport(reason: "'\(Self.path(context.codingPath))' is not \(Self.name(of: type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
                self = .notJSON(reason: underlying ?? context.debugDescription)
            } else {
                self = .notScanReport(reason: "'\(Self.path(context.codingPath))': \(context.debugDescription)")
            }
        @unknown default:
            self = .notScanReport(reason: "\(error)")
        }
    }

    /// The message for the user.
    public var description: String {
        switch self {
        case .notJSON(let reason):
            "not one JSON document (\(reason)); pass the report written by 'scan --format json'"
        case .unsupportedSchema(let schema):
            "a report of schema \(schema), which this version cannot read (it reads schema 1); merge with the media-janitor version that wrote it"
        case .notScanReport(let reason):
            "not a scan report written by 'scan --format json': \(reason)"
        }
    }

    /// `findings[3].referenced_by[0].key`.
    private static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is [Any].Type: "an array"
        default: "of the expected type"
        }
    }
}

// Each wrapper reads one object with the formatter's keys (JSONFormatter.swift) into a core value.

private struct DecodedScanReport: Decodable {
    let report: ScanReport

    enum Key: String, CodingKey {
        case schema, summary, shard, classes, directories, findings
        case generatedAt = "generated_at"
        case mediaRoot = "media_root"
    }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        let schema = try object.decode(Int.self, forKey: .schema)
        guard schema == 1 else { throw ReportDecodingError.unsupportedSchema(schema) }
        // `summary` first: any other report (usage, history, check) has none, and says so.
        let summary = try object.decode(DecodedSummary.self, forKey: .summary).summary
        var shard: Shard?
        if let decoded = try object.decodeIfPresent(DecodedShard.self, forKey: .shard) {
            do {
                shard = try Shard(index: decoded.index, count: decoded.count)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .shard, in: object, debugDescription: "\(error)")
            }
        }
        report = ScanReport(
            generatedAt: try decodeDate(object, .generatedAt), mediaRoot: try object.decode(String.self, forKey: .mediaRoot),
            summary: summary, classes: try object.decode([DecodedClass].self, forKey: .classes).map(\.usage),
            directories: try object.decode([DecodedDirectory].self, forKey: .directories).map(\.usage),
            findings: try object.decode([DecodedFinding].self, forKey: .findings).map(\.finding), shard: shard)
    }
}

private struct DecodedShard: Decodable {
    let index: Int
    let count: Int
}

private struct DecodedSummary: Decodable {
    var summary = ScanSummary()

    enum Key: String, CodingKey {
        case files, bytes, referenced, orphans, missing, unclassified, invalid, excluded
        case orphanBytes = "orphan_bytes"
        case tooYoung = "too_young"
    }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        summary.files = try object.decode(Int.self, forKey: .files)
        summary.bytes = try object.decode(Int64.self, forKey: .bytes)
        summary.referenced = try object.decode(Int.self, forKey: .referenced)
        summary.orphans = try object.decode(Int.self, forKey: .orphans)
        summary.orphanBytes = try object.decode(Int64.self, forKey: .orphanBytes)
        summary.missing = try object.decode(Int.self, forKey: .missing)
        summary.unclassified = try object.decode(Int.self, forKey: .unclassified)
        summary.invalid = try object.decode(Int.self, forKey: .invalid)
        summary.tooYoung = try object.decode(Int.self, forKey: .tooYoung)
        summary.excluded = try object.decode(Int.self, forKey: .excluded)
    }
}

private struct DecodedClass: Decodable {
    let usage: ClassUsage

    enum Key: String, CodingKey {
        case name, files, bytes, orphans, missing
        case orphanBytes = "orphan_bytes"
    }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        var usage = ClassUsage(name: try object.decode(String.self, forKey: .name))
        usage.files = try object.decode(Int.self, forKey: .files)
        usage.bytes = try object.decode(Int64.self, forKey: .bytes)
        usage.orphans = try object.decode(Int.self, forKey: .orphans)
        usage.orphanBytes = try object.decode(Int64.self, forKey: .orphanBytes)
        usage.missing = try object.decode(Int.self, forKey: .missing)
        self.usage = usage
    }
}

private struct DecodedDirectory: Decodable {
    let usage: DirectoryUsage

    enum Key: String, CodingKey {
        case path, files, bytes, orphans
        case orphanBytes = "orphan_bytes"
    }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        var usage = DirectoryUsage(path: try object.decode(String.self, forKey: .path))
        usage.files = try object.decode(Int.self, forKey: .files)
        usage.bytes = try object.decode(Int64.self, forKey: .bytes)
        usage.orphans = try object.decode(Int.self, forKey: .orphans)
        usage.orphanBytes = try object.decode(Int64.self, forKey: .orphanBytes)
        self.usage = usage
    }
}

private struct DecodedFinding: Decodable {
    let finding: Finding

    enum Key: String, CodingKey {
        case kind, path, value, bytes, mtime, reason
        case className = "class"
        case referencedBy = "referenced_by"
    }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        let kindName = try object.decode(String.self, forKey: .kind)
        guard let kind = FindingKind(rawValue: kindName) else {
            let known = FindingKind.reportOrder.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(forKey: .kind, in: object, debugDescription: "unknown kind '\(kindName)'; kinds are \(known)")
        }
        finding = Finding(
            kind: kind, path: try object.decodeIfPresent(String.self, forKey: .path),
            value: try object.decodeIfPresent(String.self, forKey: .value),
            className: try object.decodeIfPresent(String.self, forKey: .className),
            bytes: try object.decodeIfPresent(Int64.self, forKey: .bytes),
            mtime: object.contains(.mtime) ? try decodeDate(object, .mtime) : nil,
            reason: try object.decodeIfPresent(String.self, forKey: .reason),
            referencedBy: try object.decodeIfPresent([DecodedRowReference].self, forKey: .referencedBy)?.map(\.reference) ?? [])
    }
}

private struct DecodedRowReference: Decodable {
    let reference: RowReference

    enum Key: String, CodingKey { case table, column, key }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        reference = RowReference(
            table: try object.decode(String.self, forKey: .table), column: try object.decode(String.self, forKey: .column),
            key: try object.decode(String.self, forKey: .key))
    }
}

/// A timestamp as the formatter writes it (`2026-11-21T10:00:00Z`).
private func decodeDate<Key: CodingKey>(_ object: KeyedDecodingContainer<Key>, _ key: Key) throws -> Date {
    let text = try object.decode(String.self, forKey: key)
    guard let date = ISO8601.date(text) else {
        throw DecodingError.dataCorruptedError(forKey: key, in: object, debugDescription: "'\(text)' is not a UTC timestamp like 2026-11-21T10:00:00Z")
    }
    return date
}
