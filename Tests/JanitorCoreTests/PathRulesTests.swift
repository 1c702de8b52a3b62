import Testing

@testable import JanitorCore

@Suite("Path rules (DESIGN 6.1)")
struct PathRulesTests {
    let root = "/srv/app/media"

    @Test("stored values normalise to root-relative POSIX paths", arguments: [
        ("profile_pics/a.jpg", "profile_pics/a.jpg"),
        ("./a//b.jpg", "a/b.jpg"),
        ("a/./b.jpg", "a/b.jpg"),
        ("profile_pics\\a.jpg", "profile_pics/a.jpg"),
        ("a:b.jpg", "a:b.jpg"),
        ("ünïcode/файл.jpg", "ünïcode/файл.jpg"),
    ])
    func normalises(value: String, expected: String) {
        #expect(PathRules.normalise(value, mediaRoot: root) == .valid(expected))
    }

    @Test("values that cannot be media paths are refused with a reason", arguments: [
        ("../../etc/passwd", "escapes media_root", nil),
        ("a/../../b.jpg", "escapes media_root", nil),
        ("a/../b.jpg", "contains '..'", "b.jpg"),
        ("/etc/passwd", "absolute path; stored paths are relative to media_root", nil),
        ("/srv/app/media/profile_pics/a.jpg", "absolute path; stored paths are relative to media_root", "profile_pics/a.jpg"),
        ("C:\\media\\a.jpg", "an absolute Windows path", nil),
        ("a.jpg\u{0}.png", "contains a NUL byte", nil),
        ("http://cdn.example.com/a.jpg", "a URL, not a path under media_root", nil),
        ("profile_pics/", "names a directory, not a file", nil),
        (".", "empty path", nil),
        ("//", "absolute path; stored paths are relative to media_root", nil),
        ("a/b/", "names a directory, not a file", nil),
    ] as [(String, String, String?)])
    func refuses(value: String, reason: String, protecting: String?) {
        #expect(PathRules.normalise(value, mediaRoot: root) == .invalid(reason: reason, protecting: protecting))
    }

    @Test("the plain fast path agrees with full normalisation")
    func fastPathAgrees() {
        for value in ["a/b.jpg", "a//b.jpg", "./a.jpg", "a/./b", "a/../b", "../a", "/a", "a\\b", "a/", "a.b/c.d", "..a/b..", "a:b", "http://x"] {
            var bytes = Array(value.utf8)
            let plain = bytes.withUnsafeMutableBufferPointer { ReferenceSet.isPlainRelativePath(UnsafeBufferPointer($0)) }
            if plain {
                #expect(PathRules.normalise(value, mediaRoot: root) == .valid(value), "\(value)")
            }
        }
    }

    @Test("a command-line path with '..' is refused with a message naming the fix")
    func checkedPath() {
        #expect(PathRules.checkedRelativePath("../x", mediaRoot: root) == .failure(PathRuleError(value: "../x", reason: "escapes media_root")))
        #expect(PathRuleError(value: "a\0b", reason: "contains a NUL byte").description
            == "path 'a\\0b' refused: contains a NUL byte; give a path relative to media_root with no '..'")
    }
}

@Suite("Globs")
struct GlobTests {
    @Test("patterns match root-relative paths", arguments: [
        ("profile_pics/**", "profile_pics/a.jpg", true),
        ("profile_pics/**", "profile_pics/thumbs/a.jpg", true),
        ("profile_pics/**", "profile_pics_old/a.jpg", false),
        ("profile_pics/**", "other/profile_pics/a.jpg", false),
        ("profile_pics/*.jpg", "profile_pics/a.jpg", true),
        ("profile_pics/*.jpg", "profile_pics/t/a.jpg", false),
        ("**/*.part", "tmp/x/upload.part", true),
        ("**/*.part", "upload.part", true),
        ("forum/**/*.png", "forum/2024/01/a.png", true),
        ("forum/**/*.png", "forum/a.png", true),
        ("forum/**/*.png", "forum/a.jpg", false),
        ("qr/qr-?????.png", "qr/qr-00100.png", true),
        ("qr/qr-[0-9]*.png", "qr/qr-1.png", true),
        ("qr/qr-[!0-9]*.png", "qr/qr-1.png", false),
        ("profile_pics/default.png", "profile_pics/default.png", true),
    ])
    func matches(pattern: String, path: String, expected: Bool) throws {
        #expect(try Glob(pattern).matches(path) == expected)
    }

    @Test("malformed patterns are refused with the fix")
    func malformed() {
        #expect(throws: Glob.CompileError.absolute) { try Glob("/media/**") }
        #expect(throws: Glob.CompileError.unclosedBracket) { try Glob("a/[bc") }
        #expect(throws: Glob.CompileError.braces) { try Glob("a/{b,c}") }
        #expect(throws: Glob.CompileError.parentSegment) { try Glob("../x/**") }
        #expect(throws: Glob.CompileError.empty) { try Glob("") }
    }
}

@Suite("Derivative patterns")
struct DerivativePatternTests {
    @Test("a thumbnail points back at its parent, every way it can")
    func thumbnails() throws {
        let pattern = try DerivativePattern("{dir}/thumbs/{stem}_*.{ext}")
        #expect(pattern.parents(of: "profile_pics/thumbs/a_64x64.jpg") == [.path("profile_pics/a.jpg")])
        #expect(Set(pattern.parents(of: "p/thumbs/a_b_64x64.jpg")) == [.path("p/a.jpg"), .path("p/a_b.jpg")])
        #expect(pattern.parents(of: "thumbs/a_1.jpg") == [.path("a.jpg")])
        #expect(pattern.parents(of: "profile_pics/a.jpg").isEmpty)
    }

    @Test("a pattern without {ext} matches its parent by stem")
    func byStem() throws {
        let pattern = try DerivativePattern("{dir}/{stem}.webp")
        #expect(pattern.matchesByStem)
        #expect(pattern.parents(of: "profile_pics/a.webp") == [.stem("profile_pics/a")])
    }

    @Test("{name} keeps the parent's whole name")
    func name() throws {
        let pattern = try DerivativePattern("{dir}/.cache/{name}.meta")
        #expect(pattern.parents(of: "docs/.cache/r.pdf.meta") == [.path("docs/r.pdf")])
    }

    @Test("the glob for a parent lists exactly its derivatives")
    func globForParent() throws {
        let glob = try #require(try DerivativePattern("{dir}/thumbs/{stem}_*.{ext}").glob(for: "p/a[1].jpg"))
        #expect(glob.matches("p/thumbs/a[1]_64.jpg"))
        #expect(!glob.matches("p/thumbs/a1_64.jpg"))
    }

    @Test("malformed patterns are refused")
    func malformed() {
        #expect(throws: DerivativePattern.CompileError.needsDirectory) { try DerivativePattern("thumbs/{stem}.jpg") }
        #expect(throws: DerivativePattern.CompileError.needsStemOrName) { try DerivativePattern("{dir}/thumb.jpg") }
        #expect(throws: DerivativePattern.CompileError.directoryNotASegment) { try DerivativePattern("{dir}_x/{stem}.jpg") }
        #expect(throws: DerivativePattern.CompileError.unclosedPlaceholder) { try DerivativePattern("{dir}/{stem") }
        // Segments no cleaned path has: the pattern would never match, its files would be orphans.
        #expect(throws: DerivativePattern.CompileError.segmentNotAName("..")) { try DerivativePattern("{dir}/../thumbs/{stem}.jpg") }
        #expect(throws: DerivativePattern.CompileError.segmentNotAName(".")) { try DerivativePattern("{dir}/./{stem}.jpg") }
        #expect(throws: DerivativePattern.CompileError.segmentNotAName("")) { try DerivativePattern("{dir}//{stem}.jpg") }
        #expect(throws: DerivativePattern.CompileError.segmentNotAName("")) { try DerivativePattern("{dir}/{stem}/") }
        #expect(throws: DerivativePattern.CompileError.segmentNotAName("")) { try DerivativePattern("/{dir}/{stem}.jpg") }
        // A dot inside a name is a name.
        #expect(throws: Never.self) { try DerivativePattern("{dir}/..{stem}.jpg") }
    }
}

@Suite("Durations, sizes and database locations")
struct ConfigValuesTests {
    @Test("durations", arguments: [("30s", 30), ("15m", 900), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600), ("1d12h", 129_600), ("0", 0), ("0s", 0)] as [(String, Int64)])
    func durations(text: String, seconds: Int64) {
        #expect(ConfigValues.duration(text) == Seconds(seconds))
    }

    @Test("malformed durations", arguments: ["", "15", "m", "15mins", "1.5h", "-1d", "1y", "99999999999999999999w"])
    func badDurations(text: String) {
        #expect(ConfigValues.duration(text) == nil)
    }

    @Test("sizes are powers of 1024", arguments: [("512KB", 524_288), ("50MB", 52_428_800), ("10GB", 10_737_418_240), ("1.5KB", 1536), ("100", 100), ("1KiB", 1024)] as [(String, Int64)])
    func sizes(text: String, bytes: Int64) {
        #expect(ConfigValues.size(text) == bytes)
    }

    @Test("malformed sizes", arguments: ["", "MB", "50 gigs", "1.2.3MB", "-5MB", "0.5"])
    func badSizes(text: String) {
        #expect(ConfigValues.size(text) == nil)
    }

    @Test("database locations")
    func databases() throws {
        #expect(try ConfigValues.database("sqlite:app.db", base: "/srv").get() == .sqlite(path: "/srv/app.db"))
        #expect(try ConfigValues.database("sqlite:/abs/app.db", base: "/srv").get() == .sqlite(path: "/abs/app.db"))
        #expect(try ConfigValues.database("state.sqlite3", base: "/srv").get() == .sqlite(path: "/srv/state.sqlite3"))
        let url = try ConfigValues.database("postgres://app:p%40ss@db.internal:6432/media?sslmode=require", base: "/").get()
        #expect(url == .postgres(PostgresURL(user: "app", password: "p@ss", host: "db.internal", port: 6432, database: "media", requiresTLS: true)))
        #expect(url.description == "postgres://app:***@db.internal:6432/media")
        #expect(try ConfigValues.database("postgresql://u@[::1]/d", base: "/").get() == .postgres(PostgresURL(user: "u", password: nil, host: "::1", port: 5432, database: "d", requiresTLS: false)))
    }

    @Test("malformed database locations say what to write", arguments: [
        ("", "the database location is empty; use sqlite:PATH or postgres://user:password@host:port/database"),
        ("mysql://root@db/app", "unsupported database scheme 'mysql'; use sqlite:PATH or postgres://user:password@host:port/database"),
        ("postgres://db/app", "malformed PostgreSQL URL 'postgres://db/app': no user: write user@host; the form is postgres://user:password@host:port/database?sslmode=require"),
        ("postgres://u:pw@db", "malformed PostgreSQL URL 'postgres://u:***@db': no database name: end it with /database; the form is postgres://user:password@host:port/database?sslmode=require"),
        ("postgres://u@db:0/x", "malformed PostgreSQL URL 'postgres://u@db:0/x': the port '0' is not a number from 1 to 65535; the form is postgres://user:password@host:port/database?sslmode=require"),
        ("postgres://u@db/x?sslmode=sometimes", "malformed PostgreSQL URL 'postgres://u@db/x?sslmode=sometimes': unknown sslmode 'sometimes'; use disable, prefer, require, verify-ca or verify-full; the form is postgres://user:password@host:port/database?sslmode=require"),
    ])
    func badDatabases(text: String, message: String) {
        switch ConfigValues.database(text, base: "/") {
        case .success(let location): Issue.record("accepted \(location)")
        case .failure(let error): #expect(error.description == message)
        }
    }

    @Test("spans print in config syntax")
    func spelling() {
        #expect(Seconds(129_600).description == "1d12h")
        #expect(Seconds(0).description == "0s")
    }
}
