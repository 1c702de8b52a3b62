// scan-fixture: builds a large, deterministic media tree + app database + janitor.yml for the
// orphan-scan benchmark (Benchmarks/scan-bench.sh). Not a test; not shipped.
//
//   scan-fixture DIR --files N [--referenced 0.9] [--seed S] [--thumbnails T] [--threads K] [--quiet]
//
// Writes:
//   DIR/media/            N small regular files (0..4096 bytes) in a Django-like tree, plus T
//                         thumbnails under .../thumbs/ (derivatives of some images)
//                           uploads/images/<aa>/<bb>/<aabb + 8 hex>-<word>.<ext>   (55%)
//                           avatars/<aa>/user_<id>_<6 hex>.<ext>                   (15%)
//                           documents/<yyyy>/<mm>/<word>_<7 alnum>.<ext>           (30%)
//                         500-2000 files per leaf directory; every mtime is 2024-01-01T00:00:00Z.
//   DIR/app.sqlite3       accounts_user(avatar, cover_image), gallery_photo(image),
//                         docs_document(file), integer keys; about `--referenced` of the N files
//                         are referenced, some twice (cover_image = a gallery image; duplicated
//                         document rows), some rows hold NULL or ''.
//   DIR/janitor.yml       one class per top-level directory; `images` has a thumbnail derivative.
//   DIR/scan-fixture.txt  key=value: what was written and what a scan must report (written last,
//                         so its presence means the fixture is complete).
//
// Deterministic: the same options give the same paths, sizes, rows and expectations.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import GRDB

// MARK: - Small helpers

func printError(_ message: String) {
    var line = "scan-fixture: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    printError(message)
    exit(code)
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// splitmix64 finaliser: a well-mixed 64-bit hash.
@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// murmur3's fmix32 after a keyed xor: a bijection on UInt32, so distinct inputs give distinct
/// (random-looking) outputs. Used where names must be unique.
@inline(__always)
func permute32(_ value: UInt32, key: UInt32) -> UInt32 {
    var h = value ^ key
    h ^= h >> 16
    h = h &* 0x85EB_CA6B
    h ^= h >> 13
    h = h &* 0xC2B2_AE35
    h ^= h >> 16
    return h
}

let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
let base36Digits: [UInt8] = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

extension Array where Element == UInt8 {
    mutating func append(_ string: StaticString) {
        string.withUTF8Buffer { append(contentsOf: $0) }
    }

    mutating func append(string: String) {
        append(contentsOf: string.utf8)
    }

    mutating func appendHex(_ value: UInt64, digits: Int) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    mutating func appendDecimal(_ value: Int, width: Int = 0) {
        var digits: [UInt8] = []
        var v = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        } while v > 0
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        append(contentsOf: digits.reversed())
    }

    mutating func appendBase36(_ value: UInt64, digits: Int) {
        var chars = [UInt8](repeating: 0, count: digits)
        var v = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            chars[i] = base36Digits[Int(v % 36)]
            v /= 36
        }
        append(contentsOf: chars)
    }
}

// MARK: - Options

struct Options {
    var directory = ""
    var files = 200_000
    var referenced = 0.9
    var seed: UInt64 = 1
    var thumbnails = 400
    var threads = 0  // 0: one per CPU, at most 4
    var quiet = false

    static let usage = """
        usage: scan-fixture DIR --files N [--referenced 0.9] [--seed S] [--thumbnails T] [--threads K] [--quiet]

        Creates DIR/media (N files plus T thumbnails), DIR/app.sqlite3, DIR/janitor.yml and
        DIR/scan-fixture.txt. DIR/media and DIR/app.sqlite3 must not exist yet.
        """

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var positional: [String] = []
        var i = 0
        func value(_ name: String) -> String {
            i += 1
            guard i < arguments.count else { fail("\(name) needs a value\n\(usage)") }
            return arguments[i]
        }
        while i < arguments.count {
            let argument = arguments[i]
            switch argument {
            case "--files":
                let text = value(argument).replacingUnderscores()
                guard let n = Int(text), n >= 1000 else { fail("--files must be an integer >= 1000, not '\(text)'") }
                options.files = n
            case "--referenced":
                let text = value(argument)
                guard let r = Double(text), r >= 0, r <= 1 else { fail("--referenced must be a fraction in 0...1, not '\(text)'") }
                options.referenced = r
            case "--seed":
                let text = value(argument)
                guard let s = UInt64(text) else { fail("--seed must be a non-negative integer, not '\(text)'") }
                options.seed = s
            case "--thumbnails":
                let text = value(argument)
                guard let t = Int(text), t >= 0, t % 2 == 0 else { fail("--thumbnails must be an even integer >= 0, not '\(text)'") }
                options.thumbnails = t
            case "--threads":
                let text = value(argument)
                guard let t = Int(text), t >= 1, t <= 64 else { fail("--threads must be an integer in 1...64, not '\(text)'") }
                options.threads = t
            case "--quiet":
                options.quiet = true
            case "-h", "--help":
                print(usage)
                exit(0)
            default:
                if argument.hasPrefix("-") { fail("unknown option '\(argument)'\n\(usage)") }
                positional.append(argument)
            }
            i += 1
        }
        guard positional.count == 1 else { fail("expected exactly one DIR\n\(usage)") }
        options.directory = positional[0]
        return options
    }
}

extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}

// MARK: - The plan: every file's directory, name, size and whether a row references it

enum MediaKind: Int {
    case image = 0, avatar = 1, document = 2
}

struct Leaf {
    var directory: [UInt8]  // relative to media/, no trailing slash
    var kind: MediaKind
    var first: Int  // global index of its first file
    var count: Int
}

/// Hash streams, so each property of a file is independent of the others.
enum Stream: UInt64 {
    case leafSize = 1, size, referenced, word, ext, suffix, owner, date
}

struct Plan {
    let options: Options
    let referencedThreshold: UInt64
    var leaves: [Leaf] = []
    /// Per file: its leaf, and its name as a range of `names`.
    var leafOfFile: [Int32] = []
    var nameEnd: [Int32] = []  // name i is names[nameEnd[i-1]..<nameEnd[i]]
    var names: [UInt8] = []
    var counts: [Int] = [0, 0, 0]
    var starts: [Int] = [0, 0, 0]

    static let imageWords: [StaticString] = ["photo", "img", "image", "upload", "screenshot", "dsc", "pic", "scan", "holiday", "profile-banner", "whatsapp-image", "pxl"]
    static let imageExts: [StaticString] = ["jpg", "jpg", "jpg", "jpeg", "png", "png", "webp", "gif"]
    static let avatarExts: [StaticString] = ["png", "jpg", "jpg", "webp"]
    static let documentWords: [StaticString] = ["invoice", "report", "contract", "statement", "letter", "minutes", "receipt", "cv", "application-form", "quarterly-summary"]
    static let documentExts: [StaticString] = ["pdf", "pdf", "pdf", "docx", "xlsx", "txt", "odt"]

    init(options: Options) {
        self.options = options
        referencedThreshold = UInt64((options.referenced * 1_000_000).rounded())
        let n = options.files
        counts[MediaKind.image.rawValue] = n * 55 / 100
        counts[MediaKind.avatar.rawValue] = n * 15 / 100
        counts[MediaKind.document.rawValue] = n - counts[0] - counts[1]
        starts = [0, counts[0], counts[0] + counts[1]]
        leafOfFile.reserveCapacity(n)
        nameEnd.reserveCapacity(n)
        names.reserveCapacity(n * 32)
        for kind in [MediaKind.image, .avatar, .document] {
            planKind(kind)
        }
    }

    func hash(_ stream: Stream, _ index: Int) -> UInt64 {
        mix64(mix64(options.seed ^ (stream.rawValue << 56)) ^ UInt64(index))
    }

    func isReferenced(_ file: Int) -> Bool {
        hash(.referenced, file) % 1_000_000 < referencedThreshold
    }

    func size(_ file: Int) -> Int {
        Int(hash(.size, file) % 4097)
    }

    func name(_ file: Int) -> ArraySlice<UInt8> {
        names[Int(file == 0 ? 0 : nameEnd[file - 1])..<Int(nameEnd[file])]
    }

    /// The path relative to media/.
    func path(_ file: Int) -> String {
        var bytes = leaves[Int(leafOfFile[file])].directory
        bytes.append(UInt8(ascii: "/"))
        bytes.append(contentsOf: name(file))
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func planKind(_ kind: MediaKind) {
        var file = starts[kind.rawValue]
        let end = file + counts[kind.rawValue]
        var leafNumber = 0
        let key = UInt32(truncatingIfNeeded: mix64(options.seed))
        while file < end {
            let count = min(500 + Int(hash(.leafSize, leaves.count) % 1501), end - file)
            var directory: [UInt8] = []
            switch kind {
            case .image:
                guard leafNumber < 65536 else { fail("too many image directories; use fewer --files") }
                let p = UInt64((leafNumber &* 40503 &+ 0x3FA9) & 0xFFFF)  // odd multiplier: a bijection
                directory.append("uploads/images/")
                directory.appendHex(p >> 8, digits: 2)
                directory.append(UInt8(ascii: "/"))
                directory.appendHex(p & 0xFF, digits: 2)
            case .avatar:
                directory.append("avatars/")
                if leafNumber < 256 {
                    directory.appendHex(UInt64((leafNumber &* 167 &+ 0x5B) & 0xFF), digits: 2)
                } else {
                    guard leafNumber < 4096 else { fail("too many avatar directories; use fewer --files") }
                    directory.appendHex(UInt64(leafNumber), digits: 3)
                }
            case .document:
                directory.append("documents/")
                directory.appendDecimal(2004 + leafNumber / 12)
                directory.append(UInt8(ascii: "/"))
                directory.appendDecimal(leafNumber % 12 + 1, width: 2)
            }
            let leafIndex = Int32(leaves.count)
            leaves.append(Leaf(directory: directory, kind: kind, first: file, count: count))
            for f in file..<(file + count) {
                leafOfFile.append(leafIndex)
                switch kind {
                case .image:
                    // Django-style hashed upload: the directory is the name's first 4 hex digits.
                    let tail = directory.suffix(5)  // "aa/bb"
                    names.append(contentsOf: tail.prefix(2))
                    names.append(contentsOf: tail.suffix(2))
                    names.appendHex(UInt64(permute32(UInt32(f), key: key)), digits: 8)
                    names.append(UInt8(ascii: "-"))
                    names.append(Self.imageWords[Int(hash(.word, f) % UInt64(Self.imageWords.count))])
                    names.append(UInt8(ascii: "."))
                    names.append(Self.imageExts[Int(hash(.ext, f) % UInt64(Self.imageExts.count))])
                case .avatar:
                    names.append("user_")
                    names.appendDecimal(f - starts[kind.rawValue] + 1)
                    names.append(UInt8(ascii: "_"))
                    names.appendHex(hash(.suffix, f), digits: 6)
                    names.append(UInt8(ascii: "."))
                    names.append(Self.avatarExts[Int(hash(.ext, f) % UInt64(Self.avatarExts.count))])
                case .document:
                    // Django's get_available_name: "_" and 7 random characters.
                    names.append(Self.documentWords[Int(hash(.word, f) % UInt64(Self.documentWords.count))])
                    names.append(UInt8(ascii: "_"))
                    names.appendBase36(UInt64(permute32(UInt32(f), key: key)), digits: 7)
                    names.append(UInt8(ascii: "."))
                    names.append(Self.documentExts[Int(hash(.ext, f) % UInt64(Self.documentExts.count))])
                }
                nameEnd.append(Int32(names.count))
            }
            file += count
            leafNumber += 1
        }
    }
}

// MARK: - Writing files

/// 2024-01-01T00:00:00Z: far outside any grace period.
let fixedMtime = 1_704_067_200

struct FileWriter {
    let mediaFD: Int32
    let content: [UInt8]
    var times: [timespec]
    var filesWritten = 0
    var bytesWritten = 0

    init(mediaFD: Int32) {
        self.mediaFD = mediaFD
        // Something file-like: a JPEG-ish header, then a repeating pattern.
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00]
        while bytes.count < 4096 { bytes.append(UInt8(truncatingIfNeeded: bytes.count &* 31 &+ 7)) }
        content = bytes
        times = [timespec(tv_sec: fixedMtime, tv_nsec: 0), timespec(tv_sec: fixedMtime, tv_nsec: 0)]
    }

    /// mkdir -p for a path relative to media/ (components that exist are fine).
    func makeDirectories(_ relative: [UInt8]) {
        var prefix: [UInt8] = []
        for (i, byte) in relative.enumerated() {
            if byte == UInt8(ascii: "/") || i == relative.count - 1 {
                if byte != UInt8(ascii: "/") { prefix.append(byte) }
                var cPath = prefix
                cPath.append(0)
                let rc = cPath.withUnsafeBufferPointer { mkdirat(mediaFD, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 0o755) }
                if rc != 0, errno != EEXIST {
                    fail("mkdir media/\(String(decoding: prefix, as: UTF8.self)): \(String(cString: strerror(errno)))", code: 3)
                }
                if byte == UInt8(ascii: "/") { prefix.append(byte) }
            } else {
                prefix.append(byte)
            }
        }
    }

    func openDirectory(_ relative: [UInt8]) -> Int32 {
        var cPath = relative
        cPath.append(0)
        let fd = cPath.withUnsafeBufferPointer { openat(mediaFD, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { fail("open media/\(String(decoding: relative, as: UTF8.self)): \(String(cString: strerror(errno)))", code: 3) }
        return fd
    }

    /// Creates one file (open/write/futimens/close) in an open directory. `name` is NUL-terminated.
    mutating func writeFile(directoryFD: Int32, name: UnsafePointer<CChar>, size: Int) {
        let fd = openat(directoryFD, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { fail("create \(String(cString: name)): \(String(cString: strerror(errno)))", code: 3) }
        if size > 0 {
            let written = content.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            guard written == size else { fail("write \(String(cString: name)): \(String(cString: strerror(errno)))", code: 3) }
        }
        guard futimens(fd, times) == 0 else { fail("futimens \(String(cString: name)): \(String(cString: strerror(errno)))", code: 3) }
        close(fd)
        filesWritten += 1
        bytesWritten += size
    }
}

// MARK: - Main

let started = monotonicSeconds()
let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let root = options.directory.hasSuffix("/") && options.directory.count > 1 ? String(options.directory.dropLast()) : options.directory
let mediaPath = root + "/media"
let databasePath = root + "/app.sqlite3"
let markerPath = root + "/scan-fixture.txt"

func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

func log(_ message: String) {
    if !options.quiet { print("scan-fixture: " + message) }
}

if mkdir(root, 0o755) != 0, errno != EEXIST { fail("mkdir \(root): \(String(cString: strerror(errno)))", code: 3) }
for path in [mediaPath, databasePath] where exists(path) {
    fail("\(path) already exists; remove it (or use another DIR) first")
}
unlink(markerPath)

let plan = Plan(options: options)
log("planned \(options.files) files in \(plan.leaves.count) leaf directories (\(format2(monotonicSeconds() - started))s)")

/// Thumbnails: two per parent image, parents spread evenly over the images (at most one per image).
func thumbnailParents(_ plan: Plan, thumbnails: Int) -> [Int] {
    let images = plan.counts[MediaKind.image.rawValue]
    let parents = min(thumbnails / 2, images)
    guard parents > 0 else { return [] }
    let bucket = images / parents  // >= 1
    return (0..<parents).map { j in plan.starts[MediaKind.image.rawValue] + j * bucket + j % min(bucket, 7) }
}
let parents = thumbnailParents(plan, thumbnails: options.thumbnails)
let thumbnailSuffixes: [StaticString] = ["_200x200", "_640x480"]

func format2(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

// --- media/ ---
guard mkdir(mediaPath, 0o755) == 0 else { fail("mkdir \(mediaPath): \(String(cString: strerror(errno)))", code: 3) }
let mediaFD = open(mediaPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
guard mediaFD >= 0 else { fail("open \(mediaPath): \(String(cString: strerror(errno)))", code: 3) }
/// What writing the main files produced.
struct WriteTotals: Sendable {
    var files = 0, bytes = 0, referenced = 0, orphans = 0
}

/// Writes every planned file: leaves are shared out over `workers` threads (file creation is
/// kernel work, so a second core nearly halves it). The set of files does not depend on it.
func writeMainFiles(_ plan: Plan, mediaFD: Int32, workers: Int) -> WriteTotals {
    let slots = UnsafeMutableBufferPointer<WriteTotals>.allocate(capacity: workers)
    slots.initialize(repeating: WriteTotals())
    defer { slots.deallocate() }
    nonisolated(unsafe) let results = slots
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var writer = FileWriter(mediaFD: mediaFD)
        var totals = WriteTotals()
        var nameBuffer = [CChar](repeating: 0, count: 512)
        for leafIndex in stride(from: worker, to: plan.leaves.count, by: workers) {
            let leaf = plan.leaves[leafIndex]
            writer.makeDirectories(leaf.directory)
            let directoryFD = writer.openDirectory(leaf.directory)
            for file in leaf.first..<(leaf.first + leaf.count) {
                var i = 0
                for byte in plan.name(file) { nameBuffer[i] = CChar(bitPattern: byte); i += 1 }
                nameBuffer[i] = 0
                let size = plan.size(file)
                nameBuffer.withUnsafeBufferPointer { writer.writeFile(directoryFD: directoryFD, name: $0.baseAddress!, size: size) }
                totals.bytes += size
                if plan.isReferenced(file) { totals.referenced += 1 } else { totals.orphans += 1 }
            }
            close(directoryFD)
        }
        totals.files = writer.filesWritten
        results[worker] = totals
    }
    return slots.reduce(into: WriteTotals()) { sum, part in
        sum.files += part.files
        sum.bytes += part.bytes
        sum.referenced += part.referenced
        sum.orphans += part.orphans
    }
}

let filesStarted = monotonicSeconds()
let workers = options.threads > 0 ? options.threads : max(1, min(4, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
let mainTotals = writeMainFiles(plan, mediaFD: mediaFD, workers: workers)
var writer = FileWriter(mediaFD: mediaFD)
var filesWritten = mainTotals.files
var expectedBytes = mainTotals.bytes
var referencedFiles = mainTotals.referenced
let orphanFiles = mainTotals.orphans
var thumbnailOrphans = 0
for (j, parent) in parents.enumerated() {
    var directory = plan.leaves[Int(plan.leafOfFile[parent])].directory
    directory.append("/thumbs")
    writer.makeDirectories(directory)
    let directoryFD = writer.openDirectory(directory)
    let name = Array(plan.name(parent))
    let dot = name.lastIndex(of: UInt8(ascii: "."))!
    for (k, suffix) in thumbnailSuffixes.enumerated() {
        var thumb = Array(name[..<dot])
        thumb.append(suffix)
        thumb.append(contentsOf: name[dot...])
        thumb.append(0)
        let size = Int(plan.hash(.size, (1 << 40) + j * 2 + k) % 4097)
        thumb.withUnsafeBufferPointer { pointer in
            UnsafeRawPointer(pointer.baseAddress!).withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                writer.writeFile(directoryFD: directoryFD, name: $0, size: size)
            }
        }
        expectedBytes += size
        if plan.isReferenced(parent) { referencedFiles += 1 } else { thumbnailOrphans += 1 }
    }
    close(directoryFD)
}
close(mediaFD)
let filesSeconds = monotonicSeconds() - filesStarted
log("wrote \(filesWritten + writer.filesWritten) files (\(options.files) + \(parents.count * 2) thumbnails), \(expectedBytes) bytes, under \(mediaPath) in \(format2(filesSeconds))s (\(workers) thread\(workers == 1 ? "" : "s"))")

// --- app.sqlite3 ---

/// Creates the app database: every referenced file gets a row, in one transaction through
/// prepared statements. Returns row counts by name.
func writeDatabase(_ plan: Plan, path: String) throws -> [String: Int] {
    var configuration = Configuration()
    configuration.label = "scan-fixture"
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    let counts = try queue.writeWithoutTransaction { db -> [String: Int] in
        try db.execute(sql: "PRAGMA synchronous = OFF")
        try db.execute(sql: """
            CREATE TABLE accounts_user (
                id INTEGER PRIMARY KEY,
                username TEXT NOT NULL,
                email TEXT NOT NULL,
                avatar TEXT,
                cover_image TEXT,
                date_joined TEXT NOT NULL
            );
            CREATE TABLE gallery_photo (
                id INTEGER PRIMARY KEY,
                owner_id INTEGER NOT NULL REFERENCES accounts_user(id),
                image TEXT NOT NULL,
                caption TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE docs_document (
                id INTEGER PRIMARY KEY,
                owner_id INTEGER NOT NULL REFERENCES accounts_user(id),
                title TEXT NOT NULL,
                file TEXT,
                uploaded_at TEXT NOT NULL
            );
            CREATE INDEX gallery_photo_owner ON gallery_photo(owner_id);
            CREATE INDEX docs_document_owner ON docs_document(owner_id);
            """)
        var counts: [String: Int] = [:]
        try db.inTransaction {
            // A small table of timestamps, so rows don't pay for date formatting.
            let dates: [String] = (0..<365).map { day in
                let month = day / 31 % 12 + 1, dom = day % 28 + 1
                return "2023-\(month < 10 ? "0" : "")\(month)-\(dom < 10 ? "0" : "")\(dom) \(10 + day % 12):\(10 + day % 50):00"
            }
            let imageRange = plan.starts[0]..<(plan.starts[0] + plan.counts[0])
            let referencedImages: [Int] = imageRange.filter { plan.isReferenced($0) }

            // accounts_user: one row per referenced avatar; after every 9th, a user with no
            // avatar (NULL or ''); every 25th user's cover_image is a gallery image, already
            // referenced by gallery_photo.image (a shared reference across tables).
            let users = try db.makeStatement(sql: "INSERT INTO accounts_user (id, username, email, avatar, cover_image, date_joined) VALUES (?, ?, ?, ?, ?, ?)")
            var userID = 0
            var sharedCovers = 0
            func addUser(avatar: String?) throws {
                userID += 1
                var cover: String? = nil
                if userID % 25 == 0, !referencedImages.isEmpty {
                    cover = plan.path(referencedImages[Int(plan.hash(.owner, userID) % UInt64(referencedImages.count))])
                    sharedCovers += 1
                }
                try users.execute(arguments: [userID, "user\(userID)", "user\(userID)@example.com", avatar, cover, dates[userID % dates.count]])
            }
            for file in plan.starts[1]..<(plan.starts[1] + plan.counts[1]) where plan.isReferenced(file) {
                try addUser(avatar: plan.path(file))
                if userID % 10 == 9 { try addUser(avatar: userID % 20 == 9 ? nil : "") }
            }
            let userCount = max(userID, 1)
            counts["accounts_user"] = userID
            counts["shared_cover_images"] = sharedCovers

            // gallery_photo: one row per referenced image.
            let photos = try db.makeStatement(sql: "INSERT INTO gallery_photo (id, owner_id, image, caption, created_at) VALUES (?, ?, ?, ?, ?)")
            var photoID = 0
            for file in referencedImages {
                photoID += 1
                try photos.execute(arguments: [photoID, 1 + Int(plan.hash(.owner, file) % UInt64(userCount)), plan.path(file), "Photo \(photoID)", dates[Int(plan.hash(.date, file) % 365)]])
            }
            counts["gallery_photo"] = photoID

            // docs_document: one row per referenced document; every 200th row is followed by a
            // copy (two rows, one file); every 50th by a draft with no file (NULL).
            let documents = try db.makeStatement(sql: "INSERT INTO docs_document (id, owner_id, title, file, uploaded_at) VALUES (?, ?, ?, ?, ?)")
            var documentID = 0
            var duplicated = 0
            var withoutFile = 0
            for file in plan.starts[2]..<(plan.starts[2] + plan.counts[2]) where plan.isReferenced(file) {
                let path = plan.path(file)
                let owner = 1 + Int(plan.hash(.owner, file) % UInt64(userCount))
                let date = dates[Int(plan.hash(.date, file) % 365)]
                documentID += 1
                try documents.execute(arguments: [documentID, owner, "Document \(documentID)", path, date])
                if documentID % 200 == 0 {
                    documentID += 1
                    duplicated += 1
                    try documents.execute(arguments: [documentID, owner, "Copy of document \(documentID - 1)", path, date])
                }
                if documentID % 50 == 0 {
                    documentID += 1
                    withoutFile += 1
                    try documents.execute(arguments: [documentID, owner, "Draft \(documentID)", nil, date])
                }
            }
            counts["docs_document"] = documentID
            counts["duplicated_documents"] = duplicated
            counts["documents_without_file"] = withoutFile
            return .commit
        }
        return counts
    }
    try queue.close()
    return counts
}

let databaseStarted = monotonicSeconds()
let rowCounts: [String: Int]
do {
    rowCounts = try writeDatabase(plan, path: databasePath)
} catch {
    fail("writing \(databasePath): \(error)", code: 3)
}
let databaseSeconds = monotonicSeconds() - databaseStarted
log("wrote \(databasePath): accounts_user=\(rowCounts["accounts_user"]!) gallery_photo=\(rowCounts["gallery_photo"]!) docs_document=\(rowCounts["docs_document"]!) rows (shared: \(rowCounts["shared_cover_images"]!) cover images, \(rowCounts["duplicated_documents"]!) duplicated documents) in \(format2(databaseSeconds))s")

// --- janitor.yml ---
let config = """
    # Generated by scan-fixture (Benchmarks/ScanFixture): --files \(options.files) --referenced \(options.referenced) --seed \(options.seed)
    version: 1
    media_root: media
    database: sqlite:app.sqlite3
    state: .janitor/state.sqlite3

    defaults:
      grace: 15m
      quarantine_dir: .janitor/quarantine

    classes:
      images:
        paths: ["uploads/images/**"]
        references:
          - {table: gallery_photo, column: image, key: id}
          - {table: accounts_user, column: cover_image, key: id}
        derivatives: ["{dir}/thumbs/{stem}_*.{ext}"]

      avatars:
        paths: ["avatars/**"]
        references:
          - {table: accounts_user, column: avatar, key: id}

      documents:
        paths: ["documents/**"]
        references:
          - {table: docs_document, column: file, key: id}

    """

func writeText(_ text: String, to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fail("create \(path): \(String(cString: strerror(errno)))", code: 3) }
    var text = text
    let ok = text.withUTF8 { write(fd, $0.baseAddress, $0.count) == $0.count }
    guard ok, close(fd) == 0 else { fail("write \(path): \(String(cString: strerror(errno)))", code: 3) }
}

writeText(config, to: root + "/janitor.yml")

// --- scan-fixture.txt (last: its presence means the fixture is complete) ---
let totalFiles = options.files + parents.count * 2
let expectedOrphans = orphanFiles + thumbnailOrphans
let marker = """
    files=\(options.files)
    referenced=\(options.referenced)
    seed=\(options.seed)
    thumbnails=\(parents.count * 2)
    total_files=\(totalFiles)
    expected_bytes=\(expectedBytes)
    expected_referenced=\(referencedFiles)
    expected_orphans=\(expectedOrphans)
    leaf_directories=\(plan.leaves.count)
    rows_accounts_user=\(rowCounts["accounts_user"]!)
    rows_gallery_photo=\(rowCounts["gallery_photo"]!)
    rows_docs_document=\(rowCounts["docs_document"]!)
    generate_seconds=\(format2(monotonicSeconds() - started))

    """
writeText(marker, to: markerPath)
log("expect: files=\(totalFiles) bytes=\(expectedBytes) referenced=\(referencedFiles) orphans=\(expectedOrphans) (\(format2(Double(expectedOrphans) * 100 / Double(totalFiles)))%)")
log("done in \(format2(monotonicSeconds() - started))s: \(root)/{media,app.sqlite3,janitor.yml,scan-fixture.txt}")
