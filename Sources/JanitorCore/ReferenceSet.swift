/// Every path the app's rows hold, across every reference column of every class.
///
/// Filled by a streaming reader one row at a time; values are normalised here (DESIGN 6.1),
/// so a value that cannot be a media path becomes an `invalid` finding and never a path.
public struct ReferenceSet: Sendable {
    /// One reference column, numbered in config order across classes.
    public struct Column: Sendable, Hashable {
        /// Index of the class in the config.
        public var classIndex: Int
        /// The column's declaration.
        public var reference: ReferenceColumn
    }

    struct Occurrence: Sendable {
        var path: Int32
        var column: Int16
        var keyStart: UInt32
        var keyLength: UInt32
        var ownerStart: UInt32
        var ownerLength: UInt32
    }

    /// A value that is not a media path, with the row that holds it.
    public struct InvalidValue: Sendable, Hashable {
        /// The raw value.
        public var value: String
        /// Why it is invalid.
        public var reason: String
        /// The row.
        public var row: RowReference
        /// The class of the column.
        public var classIndex: Int
    }

    /// The columns, in config order.
    public let columns: [Column]
    /// Unique normalised paths.
    public private(set) var paths: PathSet
    /// The class of the first column seen holding each path.
    public private(set) var firstClass: [Int32] = []
    /// Values that cannot be media paths.
    public private(set) var invalid: [InvalidValue] = []
    /// Rows read per column.
    public private(set) var rowsPerColumn: [Int]
    var occurrences: [Occurrence] = []
    var text: [UInt8] = []
    let mediaRoot: String
    /// Whether owner values are kept (for `usage`).
    public let keepsOwners: Bool
    /// Told every `ProgressReporter.stride` rows how many rows were read so far, with the
    /// index in `columns` of the column being read as the stage; nil when no one shows progress.
    public var progress: ProgressReporter?
    private var rowsRead = 0

    /// Creates an empty set for the path-holding columns of the given classes.
    public init(classes: [MediaClass], mediaRoot: String, keepsOwners: Bool = false, capacity: Int = 1024) {
        columns = Self.columns(of: classes)
        self.mediaRoot = mediaRoot
        self.keepsOwners = keepsOwners
        rowsPerColumn = Array(repeating: 0, count: columns.count)
        paths = PathSet(capacity: capacity)
        occurrences.reserveCapacity(capacity)
    }

    /// Every path-holding reference column of the classes, numbered in config order.
    public static func columns(of classes: [MediaClass]) -> [Column] {
        classes.enumerated().flatMap { index, mediaClass in
            mediaClass.references.filter { $0.column != nil }.map { Column(classIndex: index, reference: $0) }
        }
    }

    /// Rows with a path, per class index (the sum over each class's columns).
    public var rowsPerClass: [Int] {
        var rows: [Int] = []
        for (column, count) in zip(columns, rowsPerColumn) {
            while rows.count <= column.classIndex { rows.append(0) }
            rows[column.classIndex] += count
        }
        return rows
    }

    /// The number of rows that hold a valid path.
    public var occurrenceCount: Int { occurrences.count }

    /// Adds one row's value. `key` and `owner` are the row's key and owner as text.
    public mutating func add(value: UnsafeBufferPointer<UInt8>, column: Int, key: UnsafeBufferPointer<UInt8>, owner: UnsafeBufferPointer<UInt8>? = nil) {
        rowsPerColumn[column] += 1
        if progress != nil { countForProgress(column) }
        guard !value.isEmpty else { return }
        if Self.isPlainRelativePath(value) {
            record(path: value, column: column, key: key, owner: owner)
            return
        }
        // A name in another encoding than UTF-8: a String would replace its bad bytes and name
        // another file, leaving the file on disk unprotected. It is cleaned on bytes instead.
        if String(validating: value, as: UTF8.self) == nil, let cleaned = Self.cleanedBytes(value, mediaRoot: mediaRoot) {
            cleaned.withUnsafeBufferPointer { record(path: $0, column: column, key: key, owner: owner) }
            return
        }
        let string = String(decoding: value, as: UTF8.self)
        switch PathRules.normalise(string, mediaRoot: mediaRoot) {
        case .valid(var normalised):
            normalised.withUTF8 { record(path: $0, column: column, key: key, owner: owner) }
        case .invalid(let reason, let protecting):
            let reference = columns[column].reference
            invalid.append(InvalidValue(
                value: string, reason: reason,
                row: RowReference(table: reference.table, column: reference.column ?? "", key: String(decoding: key, as: UTF8.self)),
                classIndex: columns[column].classIndex))
            // The file it points at stays protected: a row names it.
            if var inside = protecting {
                inside.withUTF8 { record(path: $0, column: column, key: key, owner: owner) }
            }
        }
    }

    /// Which of `paths` a stored value names, cleaned as `add(value:)` cleans it (a value that
    /// is invalid but points inside the root names that file too); nil when it names none.
    /// The re-check right before removal uses it, so it protects exactly what a scan protects.
    public static func index(of value: UnsafeBufferPointer<UInt8>, in paths: PathSet, mediaRoot: String) -> Int? {
        if isPlainRelativePath(value) { return paths.index(of: value) }
        if String(validating: value, as: UTF8.self) == nil, let cleaned = cleanedBytes(value, mediaRoot: mediaRoot) {
            return cleaned.withUnsafeBufferPointer { paths.index(of: $0) }
        }
        switch PathRules.normalise(String(decoding: value, as: UTF8.self), mediaRoot: mediaRoot) {
        case .valid(let normalised): return paths.index(of: normalised)
        case .invalid(_, let protecting?): return paths.index(of: protecting)
        case .invalid: return nil
        }
    }

    /// `add` for string values (tests and small tools).
    public mutating func add(value: String, column: Int, key: String, owner: String? = nil) {
        var value = value, key = key, owner = owner
        value.withUTF8 { v in
            key.withUTF8 { k in
                if owner != nil {
                    owner!.withUTF8 { o in add(value: v, column: column, key: k, owner: o) }
                } else {
                    add(value: v, column: column, key: k, owner: nil)
                }
            }
        }
    }

    private mutating func countForProgress(_ column: Int) {
        rowsRead += 1
        if ProgressReporter.isDue(rowsRead) { progress?.report(rowsRead, 0, column) }
    }

    private mutating func record(path: UnsafeBufferPointer<UInt8>, column: Int, key: UnsafeBufferPointer<UInt8>, owner: UnsafeBufferPointer<UInt8>?) {
        let (index, inserted) = paths.insert(path)
        if inserted { firstClass.append(Int32(columns[column].classIndex)) }
        let keyStart = UInt32(text.count)
        text.append(contentsOf: key)
        let ownerStart = UInt32(text.count)
        if keepsOwners, let owner { text.append(contentsOf: owner) }
        occurrences.append(Occurrence(
            path: Int32(index), column: Int16(column), keyStart: keyStart, keyLength: UInt32(key.count),
            ownerStart: ownerStart, ownerLength: UInt32(text.count) - ownerStart))
    }

    /// Calls `body` for every row holding a valid path: path index, column index, key, owner.
    public func forEachOccurrence(_ body: (_ path: Int, _ column: Int, _ key: String, _ owner: String?) -> Void) {
        for occurrence in occurrences {
            let key = string(occurrence.keyStart, occurrence.keyLength)
            let owner = occurrence.ownerLength == 0 ? nil : string(occurrence.ownerStart, occurrence.ownerLength)
            body(Int(occurrence.path), Int(occurrence.column), key, owner)
        }
    }

    func rowReference(_ occurrence: Occurrence) -> RowReference {
        let reference = columns[Int(occurrence.column)].reference
        return RowReference(table: reference.table, column: reference.column ?? "", key: string(occurrence.keyStart, occurrence.keyLength))
    }

    private func string(_ start: UInt32, _ length: UInt32) -> String {
        text.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[Int(start)..<Int(start + length)]), as: UTF8.self) }
    }

    /// A value that is not UTF-8, cleaned on its bytes as `PathRules.normalise` cleans a string
    /// (empty and `.` segments dropped, `..` resolved, an absolute path under the root made
    /// relative); nil when it leaves the root or is not then a plain relative path.
    static func cleanedBytes(_ value: UnsafeBufferPointer<UInt8>, mediaRoot: String) -> [UInt8]? {
        var bytes = Array(value)[...]  // rare: names that are not UTF-8
        if bytes.first == UInt8(ascii: "/") {
            guard let inside = PathRules.belowRoot(bytes, mediaRoot: mediaRoot) else { return nil }
            bytes = inside
        }
        guard let cleaned = PathRules.resolvedBytes(bytes), !cleaned.isEmpty else { return nil }
        return cleaned.withUnsafeBufferPointer(isPlainRelativePath) ? cleaned : nil
    }

    /// True for the common case that needs no normalisation: relative, no empty, `.` or `..`
    /// segment, no backslash, NUL, or URL, no trailing slash.
    public static func isPlainRelativePath(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: "."), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
        var segmentStart = 0
        var i = 0
        let n = bytes.count
        while i <= n {
            if i == n || bytes[i] == slash {
                let length = i - segmentStart
                if length == 0 { return false }
                if length == 1, bytes[segmentStart] == dot { return false }
                if length == 2, bytes[segmentStart] == dot, bytes[segmentStart + 1] == dot { return false }
                segmentStart = i + 1
            } else {
                let byte = bytes[i]
                if byte == 0 || byte == backslash || byte == colon { return false }
            }
            i += 1
        }
        return true
    }
}
